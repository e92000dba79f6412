// The room store: each change is a pure function of the state.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  Store,
  banned,
  connectionChanged,
  connectionClosed,
  findRequest,
  initialState,
  markerState,
  nextRequestId,
  olderExist,
  requestSent,
  requestSettled,
  typerHidden,
  typerShown,
  typingText,
} from "../static/chat/store.js";

test("each request gets a new request_id of at most 64 characters", () => {
  let state = initialState();
  const first = nextRequestId(state);
  state = requestSent(state, { kind: "delete", messageId: 4 });
  const second = nextRequestId(state);
  assert.notEqual(first, second);
  assert.deepEqual(state.requests[first], { kind: "delete", messageId: 4 });
  assert.ok(second.length <= 64);
});

test("asking for older messages shows loading until the answer settles it", () => {
  let state = initialState({ hasMore: true });
  assert.equal(markerState(state), "more");
  const requestId = nextRequestId(state);
  state = requestSent(state, { kind: "before" });
  assert.equal(markerState(state), "loading");
  state = olderExist(state, false);
  state = requestSettled(state, requestId);
  assert.equal(markerState(state), "start");
  assert.deepEqual(state.requests, {});
});

test("a repair request marks repairing until settled", () => {
  let state = initialState();
  const requestId = nextRequestId(state);
  state = requestSent(state, { kind: "after" });
  assert.equal(state.repairing, true);
  assert.equal(requestSettled(state, requestId).repairing, false);
});

test("settling an unknown request changes nothing", () => {
  const state = initialState();
  assert.equal(requestSettled(state, "r-99"), state);
  assert.equal(requestSettled(state, undefined), state);
});

test("a closed connection drops every open request", () => {
  let state = initialState({ hasMore: true });
  state = requestSent(state, { kind: "before" });
  state = requestSent(state, { kind: "after" });
  state = requestSent(state, { kind: "message", clientId: "c-1" });
  state = connectionClosed(state);
  assert.deepEqual(state.requests, {});
  assert.equal(state.loadingOlder, false);
  assert.equal(state.repairing, false);
  assert.equal(state.hasMore, true);
});

test("an open request is found by what it asked", () => {
  let state = initialState();
  state = requestSent(state, { kind: "message", clientId: "c-1" });
  state = requestSent(state, { kind: "after" });
  state = requestSent(state, { kind: "before" });
  assert.equal(findRequest(state, (request) => request.clientId === "c-1")[0], "r-1");
});

test("typing text names up to three people, then counts the others", () => {
  let state = initialState();
  assert.equal(typingText(state), "");
  state = typerShown(state, { id: 2, username: "bob" });
  assert.equal(typingText(state), "bob is typing…");
  state = typerShown(state, { id: 1, username: "ann" });
  assert.equal(typingText(state), "ann and bob are typing…");
  state = typerShown(state, { id: 3, username: "cy" });
  assert.equal(typingText(state), "ann, bob and cy are typing…");
  state = typerShown(state, { id: 4, username: "dee" });
  assert.equal(typingText(state), "ann, bob and 2 others are typing…");
  state = typerHidden(typerHidden(typerHidden(state, 1), 3), 4);
  assert.equal(typingText(state), "bob is typing…");
});

test("a change that changes nothing returns the same state", () => {
  const state = typerShown(initialState(), { id: 2, username: "bob" });
  assert.equal(typerShown(state, { id: 2, username: "bob" }), state);
  assert.equal(typerHidden(state, 9), state);
  assert.equal(olderExist(state, false), state);
  const online = connectionChanged(state, "online");
  assert.equal(connectionChanged(online, "online"), online);
});

test("the ban's reason is kept for the notice", () => {
  assert.equal(banned(initialState(), "spam").bannedDetail, "spam");
  assert.equal(banned(initialState(), undefined).bannedDetail, "");
});

test("the store tells its listeners of changes only", () => {
  const store = new Store(initialState());
  const heard = [];
  const unsubscribe = store.subscribe((state, previous) => heard.push([previous.typers, state.typers]));
  store.update(typerShown, { id: 2, username: "bob" });
  store.update(typerShown, { id: 2, username: "bob" });
  assert.deepEqual(heard, [[{}, { 2: "bob" }]]);
  unsubscribe();
  store.update(typerHidden, 2);
  assert.equal(heard.length, 1);
  assert.deepEqual(store.state.typers, {});
});

test("starting a reply names the message; cancelling or sending clears it", async () => {
  const { replyCancelled, replyStarted } = await import("../static/chat/store.js");
  const replyTo = { id: 4, user: { id: 2, username: "bob" }, excerpt: "hi", deleted: false };
  let state = initialState();
  assert.equal(state.replyTo, null);
  state = replyStarted(state, replyTo);
  assert.equal(state.replyTo, replyTo);
  assert.equal(replyStarted(state, { ...replyTo }), state, "the same message again changes nothing");
  state = replyCancelled(state);
  assert.equal(state.replyTo, null);
  assert.equal(replyCancelled(state), state);
});

test("a page opened at a message has newer messages until loading them says none are left", async () => {
  const { newerExist } = await import("../static/chat/store.js");
  let state = initialState({ hasMore: true, hasNewer: true });
  const requestId = nextRequestId(state);
  state = requestSent(state, { kind: "newer" });
  assert.equal(state.loadingNewer, true);
  state = newerExist(state, false);
  state = requestSettled(state, requestId);
  assert.equal(state.loadingNewer, false);
  assert.equal(state.hasNewer, false);
});

test("a jump is in flight until answered, and a closed socket ends it", () => {
  let state = initialState();
  state = requestSent(state, { kind: "around", messageId: 7 });
  assert.equal(state.jumping, true);
  state = connectionClosed(state);
  assert.equal(state.jumping, false);
  assert.deepEqual(state.requests, {});
});
