// The outbox's send state machine: pending -> sent -> echoed or failed, held when rate limited.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Outbox } from "../static/chat/outbox.js";

/** A Web Storage stand-in, so items can be seen to survive a reload. */
function memoryStorage() {
  const values = new Map();
  return {
    getItem: (key) => (values.has(key) ? values.get(key) : null),
    setItem: (key, value) => values.set(key, String(value)),
    removeItem: (key) => values.delete(key),
  };
}

test("a new item is due once and not again on the same connection", () => {
  const outbox = new Outbox("k", memoryStorage());
  const item = outbox.add("hi", 1000);
  assert.deepEqual(outbox.due(1, 1000).send, [item]);
  outbox.markSent(item.clientId, 1, "r-1");
  assert.deepEqual(outbox.due(1, 1000), { send: [], waitMs: null });
});

test("an item sent on a closed connection is resent once, with the same client_id", () => {
  const outbox = new Outbox("k", memoryStorage());
  const item = outbox.add("hi");
  outbox.markSent(item.clientId, 1, "r-1");
  outbox.connectionLost();
  const [again] = outbox.due(2).send;
  assert.equal(again.clientId, item.clientId);
  assert.equal(again.requestId, null);
  outbox.markSent(item.clientId, 2, "r-2");
  assert.deepEqual(outbox.due(2).send, []);
});

test("an item sent on an older socket is due on a new one even without connectionLost", () => {
  const outbox = new Outbox("k", memoryStorage());
  const item = outbox.add("hi");
  outbox.markSent(item.clientId, 1, "r-1");
  assert.deepEqual(outbox.due(2).send, [item]);
});

test("a held item waits and keeps the later ones behind it", () => {
  const outbox = new Outbox("k", memoryStorage());
  const first = outbox.add("one");
  const second = outbox.add("two");
  outbox.markSent(first.clientId, 1, "r-1");
  outbox.markSent(second.clientId, 1, "r-2");
  outbox.hold(first.clientId, 5000);
  assert.deepEqual(outbox.due(1, 2000), { send: [], waitMs: 3000 });
  assert.deepEqual(outbox.due(1, 5000).send, [first]);
});

test("an echoed item leaves the outbox and its request_id is returned with it", () => {
  const outbox = new Outbox("k", memoryStorage());
  const item = outbox.add("hi");
  outbox.markSent(item.clientId, 1, "r-7");
  assert.equal(outbox.echoed(item.clientId).requestId, "r-7");
  assert.equal(outbox.has(item.clientId), false);
  assert.equal(outbox.echoed(item.clientId), undefined);
});

test("a failed item leaves the outbox and gives its text back", () => {
  const outbox = new Outbox("k", memoryStorage());
  const item = outbox.add("keep me");
  assert.equal(outbox.failed(item.clientId).body, "keep me");
  assert.deepEqual(outbox.items, []);
});

test("unsent text survives a reload as pending, in order; the send state does not", () => {
  const storage = memoryStorage();
  const before = new Outbox("k", storage);
  const first = before.add("one");
  before.add("two");
  before.markSent(first.clientId, 1, "r-1");
  const after = new Outbox("k", storage);
  assert.deepEqual(
    after.items.map((item) => [item.body, item.state, item.clientId === first.clientId]),
    [["one", "pending", true], ["two", "pending", false]],
  );
});

test("an empty outbox leaves nothing in storage, and corrupt storage reads as empty", () => {
  const storage = memoryStorage();
  const outbox = new Outbox("k", storage);
  outbox.failed(outbox.add("x").clientId);
  assert.equal(storage.getItem("k"), null);
  storage.setItem("k", "{not json");
  assert.deepEqual(new Outbox("k", storage).items, []);
  storage.setItem("k", JSON.stringify([{ clientId: 3 }, { clientId: "c-1", body: "ok", queuedAt: 1 }]));
  assert.deepEqual(new Outbox("k", storage).items.map((item) => item.body), ["ok"]);
});

test("client ids are distinct and fit the server's 64-character limit", () => {
  const outbox = new Outbox("k", memoryStorage());
  const ids = new Set(Array.from({ length: 50 }, () => outbox.add("x").clientId));
  assert.equal(ids.size, 50);
  for (const id of ids) assert.ok(id.length <= 64);
});

test("a reply keeps what it answers through a reload; a malformed one is dropped", () => {
  const storage = memoryStorage();
  const replyTo = { id: 4, user: { id: 2, username: "bob" }, excerpt: "hi", deleted: false };
  const before = new Outbox("k", storage);
  before.add("answer", 1000, [], replyTo);
  before.add("plain", 1001);
  const after = new Outbox("k", storage);
  assert.deepEqual(
    after.items.map((item) => [item.body, item.replyTo]),
    [
      ["answer", replyTo],
      ["plain", null],
    ],
  );
  storage.setItem("k", JSON.stringify([{ clientId: "c-1", body: "x", queuedAt: 1, replyTo: { id: "4" } }]));
  assert.equal(new Outbox("k", storage).items[0].replyTo, null);
});
