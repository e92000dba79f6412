// The pure parts of showing and uploading files: sizes, thumbnail boxes, upload errors,
// and the outbox keeping a message's files across a reload.
import assert from "node:assert/strict";
import { test } from "node:test";

import { describe, formatSize, thumbnailBox } from "../static/chat/attachments.js";
import { Outbox } from "../static/chat/outbox.js";
import { uploadError } from "../static/chat/uploads.js";

test("sizes read as people write them", () => {
  assert.equal(formatSize(812), "812 B");
  assert.equal(formatSize(4300), "4.2 KB");
  assert.equal(formatSize(18 * 1024 * 1024), "18 MB");
});

test("a thumbnail box fits 400 px and never enlarges", () => {
  assert.deepEqual(thumbnailBox(1600, 900), { width: 400, height: 225 });
  assert.deepEqual(thumbnailBox(300, 1200), { width: 100, height: 400 });
  assert.deepEqual(thumbnailBox(40, 20), { width: 40, height: 20 });
});

test("a download row names the type, or the extension of an untyped file", () => {
  assert.equal(describe({ name: "a.pdf", content_type: "application/pdf", size: 2048 }), "application/pdf · 2.0 KB");
  assert.equal(describe({ name: "logo.svg", content_type: "application/octet-stream", size: 10 }), "SVG · 10 B");
  assert.equal(describe({ name: "blob", content_type: "application/octet-stream", size: 10 }), "File · 10 B");
});

test("upload errors say what went wrong with which file", () => {
  assert.equal(
    uploadError(413, { error: "too_large" }, "big.iso", 25 * 1024 * 1024),
    "big.iso is too large (the limit is 25 MB).",
  );
  assert.equal(uploadError(413, null, "big.iso"), "big.iso is too large.");
  assert.equal(uploadError(400, { error: "bad_image" }, "x.png"), "x.png looks like an image but is damaged.");
  assert.equal(uploadError(0, null, "x.png"), "x.png could not be uploaded: the connection failed.");
});

test("the outbox keeps a message's files across a reload", () => {
  const values = new Map();
  const storage = {
    getItem: (key) => (values.has(key) ? values.get(key) : null),
    setItem: (key, value) => values.set(key, String(value)),
    removeItem: (key) => values.delete(key),
  };
  const file = { id: 7, name: "cat.png" };
  new Outbox("k", storage).add("", 1000, [file]);
  const [item] = new Outbox("k", storage).items;
  assert.deepEqual(item.attachments, [file]);
  assert.equal(item.body, "");
});
