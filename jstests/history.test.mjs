// Where the messages around a message go: into the list when they meet it, else instead of it.
import assert from "node:assert/strict";
import { test } from "node:test";

import { aroundPlacement } from "../static/chat/history.js";

function page(first, last, { before = false, after = false } = {}) {
  const messages = [];
  for (let id = first; id <= last; id += 1) messages.push({ id });
  return { messages, has_more: before, has_more_before: before, has_more_after: after };
}

test("a page that overlaps what is shown joins it; the list's ends follow the page", () => {
  const shown = { oldest: 50, newest: 99, hasMore: true, hasNewer: false };
  assert.deepEqual(aroundPlacement(shown, page(30, 60, { before: true, after: true })), {
    mode: "merge",
    hasMore: true,
    hasNewer: false,
  });
  assert.deepEqual(aroundPlacement(shown, page(1, 60, { before: false, after: true })), {
    mode: "merge",
    hasMore: false,
    hasNewer: false,
  });
});

test("a page that does not meet what is shown replaces it, and says newer messages exist", () => {
  const shown = { oldest: 80, newest: 129, hasMore: true, hasNewer: false };
  assert.deepEqual(aroundPlacement(shown, page(1, 25, { before: false, after: true })), {
    mode: "reset",
    hasMore: false,
    hasNewer: true,
  });
});

test("a page inside what is shown changes neither end", () => {
  const shown = { oldest: 10, newest: 99, hasMore: true, hasNewer: true };
  assert.deepEqual(aroundPlacement(shown, page(40, 60, { before: true, after: true })), {
    mode: "merge",
    hasMore: true,
    hasNewer: true,
  });
});

test("a page reaching past the newest shown of a stretch of the past moves its end", () => {
  const shown = { oldest: 10, newest: 30, hasMore: false, hasNewer: true };
  assert.deepEqual(aroundPlacement(shown, page(20, 70, { before: true, after: false })), {
    mode: "merge",
    hasMore: false,
    hasNewer: false,
  });
});

test("an empty list takes the page as it is", () => {
  const shown = { oldest: undefined, newest: undefined, hasMore: false, hasNewer: false };
  assert.deepEqual(aroundPlacement(shown, page(5, 9, { before: true, after: true })), {
    mode: "reset",
    hasMore: true,
    hasNewer: true,
  });
});
