// Seq tracking: a jump in seq means a missed broadcast, closed by history.
import assert from "node:assert/strict";
import { test } from "node:test";

import { SequenceTracker } from "../static/chat/sequence.js";

test("consecutive messages open no gap and advance the last id", () => {
  const tracker = new SequenceTracker(3, 30);
  assert.equal(tracker.see(4, 41), false);
  assert.equal(tracker.see(5, 52), false);
  assert.deepEqual([tracker.seq, tracker.id], [5, 52]);
});

test("a skipped seq opens a gap that the missing message closes", () => {
  const tracker = new SequenceTracker(3, 30);
  assert.equal(tracker.see(5, 50), true);
  assert.equal(tracker.id, 30);
  assert.equal(tracker.see(4, 40), false);
  assert.deepEqual([tracker.seq, tracker.id], [5, 50]);
});

test("an old or repeated seq changes nothing", () => {
  const tracker = new SequenceTracker(3, 30);
  assert.equal(tracker.see(2, 20), false);
  assert.equal(tracker.see(3, 30), false);
  assert.deepEqual([tracker.seq, tracker.id], [3, 30]);
});

test("a pong ahead of us is a gap until history catches up", () => {
  const tracker = new SequenceTracker(3, 30);
  assert.equal(tracker.expect(3), false);
  assert.equal(tracker.expect(6), true);
  tracker.caughtUp([{ seq: 4, id: 40 }], false);
  assert.equal(tracker.hasGap, true);
  tracker.caughtUp([{ seq: 5, id: 50 }], true);
  assert.equal(tracker.hasGap, false);
  assert.equal(tracker.seq, 6); // seq 6 was deleted: only a complete page can tell
});

test("a complete history page closes a hole left by a deleted message", () => {
  const tracker = new SequenceTracker(3, 30);
  tracker.see(5, 50);
  tracker.caughtUp([], true);
  assert.equal(tracker.hasGap, false);
  assert.deepEqual([tracker.seq, tracker.id], [5, 50]);
});

test("a partial history page keeps the gap beyond what it covered", () => {
  const tracker = new SequenceTracker(1, 10);
  tracker.see(9, 90);
  tracker.caughtUp([{ seq: 2, id: 20 }, { seq: 3, id: 30 }], false);
  assert.equal(tracker.hasGap, true);
  assert.deepEqual([tracker.seq, tracker.id], [3, 30]);
});
