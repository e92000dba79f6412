// Reports: what a moderator's panel shows of a `report` frame, what a reporter reads when it is settled.
import assert from "node:assert/strict";
import { test } from "node:test";

import { messageHref, outcomeText, reportEntry } from "../static/chat/reports.js";

const frame = {
  type: "report",
  report: 7,
  room: "town",
  message: { id: 42, body: "buy   cheap\nwatches", user: { id: 3, username: "carol" } },
  reporter: { id: 2, username: "bob" },
  reason: "spam link",
  unknown_field: "ignored",
};

test("a report shows the excerpt, who reported whose message, why, and where", () => {
  assert.deepEqual(reportEntry(frame), {
    id: 7,
    room: "town",
    messageId: 42,
    href: "/chat/town/?around=42",
    reporter: "bob",
    author: "carol",
    excerpt: "buy cheap watches",
    reason: "spam link",
  });
});

test("a long message is cut to an excerpt", () => {
  const long = { ...frame, message: { ...frame.message, body: "a".repeat(300) } };
  assert.equal([...reportEntry(long).excerpt].length, 101);
});

test("a frame without a report id, a room or a message is not shown", () => {
  assert.equal(reportEntry({ ...frame, report: "7" }), null);
  assert.equal(reportEntry({ ...frame, room: undefined }), null);
  assert.equal(reportEntry({ ...frame, message: null }), null);
  assert.equal(reportEntry(null), null);
});

test("the link to a message escapes the room name", () => {
  assert.equal(messageHref("a b", 5), "/chat/a%20b/?around=5");
});

test("each outcome reads as a sentence, an unknown one as settled", () => {
  assert.equal(outcomeText("deleted"), "Your report was handled: the message was deleted.");
  assert.equal(outcomeText("banned"), "Your report was handled: its author was banned from that room.");
  assert.equal(outcomeText("dismissed"), "Your report was handled: the moderators dismissed it.");
  assert.equal(outcomeText("exploded"), "Your report was handled: it was settled.");
});
