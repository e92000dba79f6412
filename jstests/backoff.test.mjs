// Reconnect delays: exponential, capped, with up to half again of jitter.
import assert from "node:assert/strict";
import { test } from "node:test";

import { backoffDelay } from "../static/chat/backoff.js";

test("the delay doubles from one second without jitter", () => {
  assert.deepEqual(
    [0, 1, 2, 3].map((attempt) => backoffDelay(attempt, () => 0)),
    [1000, 2000, 4000, 8000],
  );
});

test("jitter stretches the delay by at most half", () => {
  assert.equal(backoffDelay(1, () => 0.999999), 3000);
});

test("the delay never passes thirty seconds, jitter included", () => {
  assert.equal(backoffDelay(5, () => 0), 30000);
  assert.equal(backoffDelay(50, () => 0.99), 30000);
});
