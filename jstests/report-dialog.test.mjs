// Reporting a message: the reason the dialog sends, and its counter.
import assert from "node:assert/strict";
import { test } from "node:test";

import { REASON_MAX, checkReason, counterText } from "../static/chat/report-dialog.js";

test("a reason is sent trimmed", () => {
  assert.deepEqual(checkReason("  spam link \n"), { reason: "spam link", problem: null });
});

test("an empty or blank reason is refused, saying why", () => {
  for (const text of ["", "   \n\t", undefined]) {
    const { problem } = checkReason(text);
    assert.match(problem, /why/);
  }
});

test("500 characters pass and 501 do not, counted as the server counts them", () => {
  assert.equal(checkReason("x".repeat(REASON_MAX)).problem, null);
  assert.match(checkReason("x".repeat(REASON_MAX + 1)).problem, /at most 500/);
  // An emoji is one character to the server, two UTF-16 units to JavaScript.
  assert.equal(checkReason("🚩".repeat(REASON_MAX)).problem, null);
});

test("the counter counts what would be sent", () => {
  assert.equal(counterText(""), "0 of 500 characters");
  assert.equal(counterText("  spam 🚩 "), "6 of 500 characters");
});
