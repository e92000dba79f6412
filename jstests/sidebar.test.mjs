// Room counts: exact from hello rooms, activity, activity_deleted and read frames.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ReadReporter,
  applyActivity,
  applyDeleted,
  applyFrame,
  applyRead,
  mergeRooms,
  noticeAfterListing,
  roomsFrom,
  titleWith,
  totalUnread,
} from "../static/chat/sidebar.js";

const ME = 1;
const BOB = 2;

function rooms(extra = {}) {
  return roomsFrom([
    { name: "news", title: "News", kind: "public", unread: 2, mentions: 1, last_seq: 10,
      last_read_seq: 8, level: "all", ...extra },
  ]);
}

const activity = (seq, fields = {}) => ({ room: "news", id: 100 + seq, seq, user_id: BOB,
  mentions: [], ...fields });

test("activity by someone else above the read position counts once", () => {
  const state = rooms();
  assert.deepEqual(applyActivity(state, activity(11, { mentions: [ME] }), ME), {
    changed: true, notify: true,
  });
  assert.equal(applyActivity(state, activity(11, { mentions: [ME] }), ME).changed, false);
  assert.equal(applyActivity(state, activity(9), ME).changed, false, "already in the snapshot");
  const news = state.get("news");
  assert.deepEqual([news.unread, news.mentions, news.lastSeq], [3, 2, 11]);
});

test("your own message reads the room up to it", () => {
  const state = rooms();
  applyActivity(state, activity(11, { user_id: ME }), ME);
  const news = state.get("news");
  assert.deepEqual([news.unread, news.mentions, news.lastReadSeq], [0, 0, 11]);
});

test("the level decides what counts and what notifies", () => {
  const quiet = rooms({ level: "mentions", unread: 1 });
  assert.equal(applyActivity(quiet, activity(11), ME).changed, false);
  assert.equal(applyActivity(quiet, activity(12, { mentions: [ME] }), ME).notify, true);
  assert.deepEqual([quiet.get("news").unread, quiet.get("news").mentions], [2, 2]);
  const silent = rooms({ level: "nothing", unread: 0, mentions: 0 });
  assert.deepEqual(applyActivity(silent, activity(11, { mentions: [ME] }), ME), {
    changed: false, notify: false,
  });
});

test("a direct message notifies without a mention", () => {
  const direct = rooms({ kind: "direct" });
  assert.equal(applyActivity(direct, activity(11), ME).notify, true);
});

test("a deletion takes back what the message counted, and nothing else", () => {
  const state = rooms();
  applyActivity(state, activity(11, { mentions: [ME] }), ME);
  assert.equal(applyDeleted(state, activity(11, { mentions: [ME] }), ME), true);
  assert.equal(applyDeleted(state, activity(8), ME), false, "already read");
  assert.equal(applyDeleted(state, activity(12), ME), false, "never counted");
  assert.equal(applyDeleted(state, activity(10, { user_id: ME }), ME), false, "your own");
  assert.equal(applyDeleted(state, activity(9, { mentions: [ME] }), ME), true);
  const news = state.get("news");
  assert.deepEqual([news.unread, news.mentions], [1, 0]);
});

test("read takes the server's counts and adds activity counted after its snapshot", () => {
  const state = rooms();
  applyActivity(state, activity(11), ME);
  applyActivity(state, activity(12, { mentions: [ME] }), ME);
  applyRead(state, { room: "news", seq: 10, unread: 1, mentions: 0, last_seq: 11 });
  const news = state.get("news");
  assert.deepEqual([news.unread, news.mentions, news.lastReadSeq, news.lastSeq], [2, 1, 10, 12]);
  assert.equal(applyRead(state, { room: "news", seq: 9, unread: 5, mentions: 5, last_seq: 9 }),
    false, "a position never moves back");
  assert.equal(news.unread, 2);
});

test("frames for rooms you are not in change nothing", () => {
  const state = rooms();
  assert.equal(applyActivity(state, { ...activity(11), room: "elsewhere" }, ME).changed, false);
  assert.equal(applyRead(state, { room: "elsewhere", seq: 1, unread: 0, mentions: 0 }), false);
  assert.equal(totalUnread(state), 2);
});

test("the title shows the total only while the tab is hidden", () => {
  assert.equal(titleWith("#releases · Jabber", 3, true), "(3) #releases · Jabber");
  assert.equal(titleWith("#releases · Jabber", 3, false), "#releases · Jabber");
  assert.equal(titleWith("#releases · Jabber", 0, true), "#releases · Jabber");
});

test("read positions go out at most once a second, the highest seq last", () => {
  let now = 0;
  const sent = [];
  const timers = [];
  const reporter = new ReadReporter((frame) => sent.push(frame.seq) > 0, {
    now: () => now,
    schedule: (callback, wait) => timers.push({ callback, wait }),
  });
  reporter.offer(5);
  reporter.offer(6);
  reporter.offer(7);
  reporter.offer(4);
  assert.deepEqual(sent, [5]);
  assert.equal(timers.length, 1);
  now = 1000;
  timers[0].callback();
  assert.deepEqual(sent, [5, 7]);
  reporter.offer(7);
  assert.deepEqual([sent, timers.length], [[5, 7], 1], "nothing new: nothing sent or scheduled");
});

test("a read that could not be sent is tried again", () => {
  let online = false;
  const sent = [];
  const reporter = new ReadReporter((frame) => online && sent.push(frame.seq) > 0, {
    now: () => 5000,
  });
  reporter.offer(3);
  online = true;
  reporter.offer(3);
  assert.deepEqual(sent, [3]);
});

test("a fresh list keeps counts we moved past its snapshot, adds joined rooms, drops left ones", () => {
  const state = roomsFrom([
    { name: "news", unread: 2, last_seq: 10, last_read_seq: 8 },
    { name: "gone", unread: 1, last_seq: 3, last_read_seq: 2 },
  ]);
  applyActivity(state, activity(11), ME);
  const merged = mergeRooms(state, [
    { name: "news", unread: 2, last_seq: 10, last_read_seq: 8 },
    { name: "joined", unread: 1, last_seq: 5, last_read_seq: 4 },
  ]);
  assert.deepEqual([...merged.keys()], ["news", "joined"]);
  assert.equal(merged.get("news").unread, 3, "our later activity stays counted");
  const newer = mergeRooms(merged, [{ name: "news", unread: 0, last_seq: 12, last_read_seq: 12 }]);
  assert.equal(newer.get("news").unread, 0);
});

test("a direct room keeps its other person, online or not", () => {
  const rooms = roomsFrom([
    { name: "dm-1-2", title: "bob", kind: "direct", peer: { id: 2, username: "bob", online: 0 } },
    { name: "lobby", kind: "public" },
  ]);
  assert.deepEqual(rooms.get("dm-1-2").peer, { id: 2, username: "bob", online: false });
  assert.equal(rooms.get("lobby").peer, null);
});

test("a presence list with the other person of a direct room shows them online", () => {
  const counts = {
    rooms: roomsFrom([{ name: "dm-1-2", kind: "direct", peer: { id: 2, username: "bob" } }]),
    me: 1,
    known: new Map(),
  };
  const elsewhere = applyFrame(counts, { type: "presence", online: [{ id: 3, username: "cy" }] });
  assert.equal(elsewhere.changed, false);
  const here = applyFrame(counts, { type: "presence", online: [{ id: 2, username: "bob" }] });
  assert.equal(here.changed, true);
  assert.equal(counts.rooms.get("dm-1-2").peer.online, true);
  // Leaving one room says nothing of their other sockets.
  applyFrame(counts, { type: "presence", online: [] });
  assert.equal(counts.rooms.get("dm-1-2").peer.online, true);
});

test("a fresh list brings the other person's presence even where the page counted further", () => {
  const held = roomsFrom([
    { name: "dm-1-2", kind: "direct", last_seq: 9, peer: { id: 2, username: "bob", online: true } },
  ]);
  const merged = mergeRooms(held, [
    { name: "dm-1-2", kind: "direct", last_seq: 5, peer: { id: 2, username: "bob", online: false } },
  ]);
  assert.equal(merged.get("dm-1-2").lastSeq, 9);
  assert.equal(merged.get("dm-1-2").peer.online, false);
});

test("activity of a room listed only after a refresh notifies as if it had been listed", () => {
  const direct = roomsFrom([
    { name: "dm-1-2", title: "bob", kind: "direct", unread: 1, mentions: 0, last_seq: 1,
      last_read_seq: 0, level: "all" },
    { name: "quiet", kind: "public", unread: 1, mentions: 0, last_seq: 1, last_read_seq: 0,
      level: "nothing" },
  ]);
  const first = { room: "dm-1-2", id: 7, seq: 1, user_id: BOB, mentions: [] };
  assert.equal(noticeAfterListing(direct, first, ME), true, "a direct message");
  assert.equal(noticeAfterListing(direct, { ...first, user_id: ME }, ME), false, "your own");
  assert.equal(noticeAfterListing(direct, { ...first, room: "gone" }, ME), false, "never listed");
  direct.get("dm-1-2").lastReadSeq = 1;
  assert.equal(noticeAfterListing(direct, first, ME), false, "read meanwhile in another tab");
  const quiet = { room: "quiet", id: 8, seq: 1, user_id: BOB, mentions: [ME] };
  assert.equal(noticeAfterListing(direct, quiet, ME), false, "level nothing");
  assert.equal(noticeAfterListing(rooms(), activity(11, { mentions: [ME] }), ME), true);
  assert.equal(noticeAfterListing(rooms(), activity(11), ME), false, "public, no mention");
});
