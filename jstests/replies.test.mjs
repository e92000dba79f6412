// Replies: the excerpt of the message answered, and the quote a reply shows.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  excerpt,
  isReplyTo,
  originalDeleted,
  quoteParts,
  replyTarget,
} from "../static/chat/replies.js";

const ann = { id: 1, username: "ann" };

test("an excerpt is the text on one line", () => {
  assert.equal(excerpt("  see\n\nthis   code\tblock "), "see this code block");
});

test("an excerpt keeps at most 100 characters, counted as code points, and says it was cut", () => {
  const long = "😀".repeat(150);
  const cut = excerpt(long);
  assert.equal([...cut].length, 101);
  assert.ok(cut.endsWith("…"));
  assert.equal(excerpt("x".repeat(100)), "x".repeat(100));
});

test("a quote shows the author and the excerpt", () => {
  const replyTo = { id: 4, user: ann, excerpt: "hello there", deleted: false };
  assert.deepEqual(quoteParts(replyTo), { author: "ann", text: "hello there", deleted: false });
});

test("a quote of a deleted message says so instead of an excerpt", () => {
  const replyTo = { id: 4, user: ann, excerpt: "", deleted: true };
  assert.deepEqual(quoteParts(replyTo), { author: "ann", text: "deleted message", deleted: true });
  assert.equal(quoteParts(null), null);
});

test("deleting the original empties the excerpt of the replies to it", () => {
  const replyTo = { id: 4, user: ann, excerpt: "hello", deleted: false };
  assert.deepEqual(originalDeleted(replyTo), { id: 4, user: ann, excerpt: "", deleted: true });
  const already = originalDeleted(replyTo);
  assert.equal(originalDeleted(already), already);
  assert.equal(originalDeleted(null), null);
});

test("replying to a message keeps its id, its author and an excerpt of its text", () => {
  const message = { id: 9, user: ann, body: "**bold** words", html: "<p><strong>bold</strong> words</p>" };
  assert.deepEqual(replyTarget(message, "bold words\n"), {
    id: 9,
    user: ann,
    excerpt: "bold words",
    deleted: false,
  });
});

test("only a well-formed reply_to is taken from storage", () => {
  assert.equal(isReplyTo({ id: 9, user: ann, excerpt: "x", deleted: false }), true);
  assert.equal(isReplyTo({ id: "9", user: ann }), false);
  assert.equal(isReplyTo({ id: 9 }), false);
  assert.equal(isReplyTo(null), false);
});
