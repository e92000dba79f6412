// Replies are matched to requests by request_id; without one, by the oldest open request.
import assert from "node:assert/strict";
import { test } from "node:test";

import { answeredRequest, sendRequest, settleRequestsFor } from "../static/chat/requests.js";
import { Store, initialState } from "../static/chat/store.js";

function room({ online = true } = {}) {
  const sent = [];
  const connection = { send: (frame) => online && sent.push(frame) > 0 };
  return { store: new Store(initialState()), connection, sent };
}

test("a request goes out with a request_id and stays open", () => {
  const page = room();
  const requestId = sendRequest(page, { type: "history", before: 9 }, { kind: "before" });
  assert.deepEqual(page.sent, [{ type: "history", before: 9, request_id: requestId }]);
  assert.deepEqual(page.store.state.requests, { [requestId]: { kind: "before" } });
});

test("nothing is recorded when the socket is not open", () => {
  const page = room({ online: false });
  assert.equal(sendRequest(page, { type: "ping" }, { kind: "after" }), false);
  assert.deepEqual(page.store.state.requests, {});
});

test("a reply is matched by its request_id, not by order", () => {
  const page = room();
  sendRequest(page, { type: "history" }, { kind: "before" });
  const second = sendRequest(page, { type: "history" }, { kind: "after" });
  assert.deepEqual(answeredRequest(page, { request_id: second }, ["before", "after"]), [
    second,
    { kind: "after" },
  ]);
});

test("a reply naming a request that is no longer open matches nothing", () => {
  const page = room();
  sendRequest(page, { type: "history" }, { kind: "before" });
  assert.equal(answeredRequest(page, { request_id: "r-404" }, ["before"]), undefined);
});

test("a reply without request_id answers no request", () => {
  const page = room();
  sendRequest(page, { type: "history" }, { kind: "after" });
  assert.equal(answeredRequest(page, {}, ["before", "after"]), undefined);
});

test("a reply answers only a request of the kinds asked for", () => {
  const page = room();
  const edit = sendRequest(page, { type: "edit" }, { kind: "edit", messageId: 3 });
  assert.equal(answeredRequest(page, { request_id: edit }, ["before", "after"]), undefined);
});

test("a broadcast settles the edits and deletes of its message", () => {
  const page = room();
  sendRequest(page, { type: "edit" }, { kind: "edit", messageId: 3 });
  sendRequest(page, { type: "delete" }, { kind: "delete", messageId: 3 });
  const other = sendRequest(page, { type: "delete" }, { kind: "delete", messageId: 4 });
  settleRequestsFor(page, 3, ["edit", "delete"]);
  assert.deepEqual(Object.keys(page.store.state.requests), [other]);
});
