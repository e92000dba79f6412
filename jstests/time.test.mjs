// Timestamp parsing and the day labels of the message list.
import assert from "node:assert/strict";
import { test } from "node:test";

import { dayKey, formatDateTime, formatDay, formatTime, parseTimestamp } from "../static/chat/time.js";

test("Django's microsecond timestamps parse to the millisecond", () => {
  const date = parseTimestamp("2026-11-23T10:00:00.123456+00:00");
  assert.equal(date.toISOString(), "2026-11-23T10:00:00.123Z");
});

test("missing or invalid timestamps parse to null", () => {
  assert.equal(parseTimestamp(null), null);
  assert.equal(parseTimestamp(""), null);
  assert.equal(parseTimestamp("yesterday-ish"), null);
});

test("the day key is the local calendar day", () => {
  const morning = new Date(2026, 10, 23, 0, 5);
  const night = new Date(2026, 10, 23, 23, 55);
  assert.equal(dayKey(morning), dayKey(night));
  assert.notEqual(dayKey(night), dayKey(new Date(2026, 10, 24, 0, 5)));
});

test("day separators say Today and Yesterday, else the date", () => {
  const now = new Date(2026, 10, 23, 12, 0);
  assert.equal(formatDay(new Date(2026, 10, 23, 1, 0), now), "Today");
  assert.equal(formatDay(new Date(2026, 10, 22, 23, 0), now), "Yesterday");
  const older = formatDay(new Date(2026, 10, 20, 9, 0), now);
  assert.ok(!["Today", "Yesterday"].includes(older));
  assert.notEqual(older, formatDay(new Date(2025, 10, 20, 9, 0), now)); // the year shows
});

test("Yesterday holds across a month boundary", () => {
  assert.equal(formatDay(new Date(2026, 10, 30, 18, 0), new Date(2026, 11, 1, 9, 0)), "Yesterday");
});

test("a date and time today is the time alone, prefixed with today", () => {
  const now = new Date(2026, 10, 23, 12, 0);
  const date = new Date(2026, 10, 23, 9, 30);
  assert.equal(formatDateTime(date, now), `today ${formatTime(date)}`);
  assert.ok(!formatDateTime(new Date(2026, 10, 1, 9, 30), now).startsWith("today"));
});
