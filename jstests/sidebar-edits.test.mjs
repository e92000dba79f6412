// Room counts under edits (activity_edited, message_edited) and direct rooms' presence
// (peer_presence): exact against a model of the server's counting (docs/protocol.md).
import assert from "node:assert/strict";
import { test } from "node:test";

import { applyEdited, applyFrame, applyPeerPresence, roomsFrom } from "../static/chat/sidebar.js";

const ME = 1;
const BOB = 2;

function counts(extra = {}) {
  const entry = { name: "news", title: "News", kind: "public", unread: 0, mentions: 0,
    last_seq: 10, last_read_seq: 10, level: "all", ...extra };
  return { rooms: roomsFrom([entry]), me: ME, known: new Map() };
}

const activity = (seq, fields = {}) => ({ type: "activity", room: "news", id: 100 + seq, seq,
  user_id: BOB, mentions: [], ...fields });
const edited = (seq, mentions, previous, fields = {}) => ({ type: "activity_edited",
  room: "news", id: 100 + seq, seq, user_id: BOB, mentions, previous_mentions: previous,
  edited: "2026-11-30T14:02:11.250Z", ...fields });
const shown = (state) => [state.rooms.get("news").unread, state.rooms.get("news").mentions];

test("an edit that adds a mention of you counts one more mention, not one more unread", () => {
  const state = counts();
  applyFrame(state, activity(11));
  assert.equal(applyFrame(state, edited(11, [ME], [])).changed, true);
  assert.deepEqual(shown(state), [1, 1]);
});

test("an edit that takes the mention away takes it off again", () => {
  const state = counts();
  applyFrame(state, activity(11, { mentions: [ME] }));
  applyFrame(state, edited(11, [], [ME]));
  assert.deepEqual(shown(state), [1, 0]);
});

test("with level mentions, unread follows the mention both ways", () => {
  const state = counts({ level: "mentions" });
  applyFrame(state, activity(11));
  assert.deepEqual(shown(state), [0, 0]);
  applyFrame(state, edited(11, [ME], []));
  assert.deepEqual(shown(state), [1, 1]);
  applyFrame(state, edited(11, [BOB], [ME]));
  assert.deepEqual(shown(state), [0, 0]);
});

test("with level nothing an edit moves nothing", () => {
  const state = counts({ level: "nothing" });
  applyFrame(state, activity(11));
  assert.equal(applyFrame(state, edited(11, [ME], [])).changed, false);
  assert.deepEqual(shown(state), [0, 0]);
});

test("an edit of a message in the snapshot weighs its previous mentions", () => {
  // Counted by the server (seq 9 <= last_seq 10, above last_read_seq 8), never seen as activity.
  const state = counts({ unread: 2, mentions: 1, last_read_seq: 8 });
  applyFrame(state, edited(9, [], [ME]));
  assert.deepEqual(shown(state), [2, 0]);
  // Its weight is now remembered: a second edit starts from it.
  applyFrame(state, edited(9, [ME], []));
  assert.deepEqual(shown(state), [2, 1]);
});

test("edits that were never counted are ignored", () => {
  const state = counts({ unread: 1, mentions: 1, last_read_seq: 8 });
  const before = shown(state);
  for (const frame of [
    edited(8, [], [ME]), // at the read position
    edited(11, [ME], []), // past the last seq held: its activity has not come
    edited(9, [], [ME], { user_id: ME }), // your own message
    edited(9, [], [ME], { room: "elsewhere" }), // a room you are not in
  ]) {
    assert.equal(applyFrame(state, frame).changed, false);
  }
  assert.deepEqual(shown(state), before);
});

test("counts never go below zero", () => {
  const state = counts({ unread: 0, mentions: 0, last_read_seq: 8, level: "mentions" });
  applyEdited(state.rooms, edited(9, [], [ME]), ME);
  assert.deepEqual(shown(state), [0, 0]);
});

test("a deletion after an edit takes off the edited weight", () => {
  const state = counts();
  applyFrame(state, activity(11));
  applyFrame(state, edited(11, [ME], []));
  applyFrame(state, { type: "activity_deleted", room: "news", id: 111, seq: 11, user_id: BOB,
    mentions: [ME] });
  assert.deepEqual(shown(state), [0, 0]);
});

const message = (seq, mentions, fields = {}) => ({ id: 100 + seq, seq, room: "news",
  user: { id: BOB, username: "bob" }, body: "hi", mentions, ...fields });

test("an edit in the socket's own room moves the counts and what a delete takes off", () => {
  const state = counts();
  applyFrame(state, { type: "message", ...message(11, []) });
  assert.deepEqual(shown(state), [1, 0]);
  applyFrame(state, { type: "message_edited", message: message(11, [ME]) });
  assert.deepEqual(shown(state), [1, 1]);
  assert.deepEqual(state.known.get(111).mentions, [ME]);
  applyFrame(state, { type: "message_deleted", id: 111 });
  assert.deepEqual(shown(state), [0, 0]);
});

test("a message from hello, edited then deleted, takes off its new weight", () => {
  const state = counts();
  applyFrame(state, { type: "hello", rooms: [{ name: "news", unread: 1, mentions: 1,
    last_seq: 11, last_read_seq: 10, level: "all" }], messages: [message(11, [ME])] });
  applyFrame(state, { type: "message_edited", message: message(11, []) });
  assert.deepEqual(shown(state), [1, 0]);
  applyFrame(state, { type: "message_deleted", id: 111 });
  assert.deepEqual(shown(state), [0, 0]);
});

test("an edit of a message the socket never saw is remembered but moves nothing", () => {
  const state = counts({ unread: 1, mentions: 0, last_read_seq: 8 });
  assert.equal(applyFrame(state, { type: "message_edited", message: message(9, [ME]) }).changed,
    false);
  assert.deepEqual(state.known.get(109).mentions, [ME]);
});

// A model of the server (docs/protocol.md, ROOM entries): every count recomputed from the
// visible messages, against the client's running counts from the frames alone.
function serverCounts(model) {
  const counted = model.messages.filter(
    (m) => !m.deleted && m.user_id !== ME && m.seq > model.lastReadSeq,
  );
  const mentioned = counted.filter((m) => m.mentions.includes(ME));
  if (model.level === "nothing") return [0, 0];
  if (model.level === "mentions") return [mentioned.length, mentioned.length];
  return [counted.length, mentioned.length];
}

function randomGenerator(seed) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

for (const level of ["all", "mentions", "nothing"]) {
  test(`random sends, edits, deletes and reads keep the counts exact (level ${level})`, () => {
    for (let seed = 1; seed <= 30; seed++) {
      const random = randomGenerator(seed);
      const pick = (list) => list[Math.floor(random() * list.length)];
      const model = { messages: [], lastReadSeq: 0, lastSeq: 0, level };
      const state = counts({ last_seq: 0, last_read_seq: 0, level });
      // The observer's socket is in "news" half the time: message frames, else activity.
      const ownRoom = seed % 2 === 0;
      for (let step = 0; step < 200; step++) {
        const action = random();
        const visible = model.messages.filter((m) => !m.deleted);
        if (action < 0.4 || visible.length === 0) {
          const seq = ++model.lastSeq;
          const fields = { id: 100 + seq, seq, user_id: pick([ME, BOB, 3]),
            mentions: random() < 0.4 ? [ME] : [] };
          model.messages.push(fields);
          if (fields.user_id === ME) model.lastReadSeq = seq;
          if (ownRoom) {
            const { user_id: id, ...rest } = fields;
            applyFrame(state, { type: "message", room: "news", user: { id }, ...rest });
          } else {
            applyFrame(state, { type: "activity", room: "news", ...fields });
          }
        } else if (action < 0.7) {
          const target = pick(visible);
          const previous = target.mentions;
          target.mentions = previous.length ? [] : [ME];
          if (ownRoom) {
            applyFrame(state, { type: "message_edited", message: { id: target.id,
              seq: target.seq, room: "news", user: { id: target.user_id },
              mentions: target.mentions } });
          } else if (target.user_id !== ME) {
            // The server sends activity_edited only for edits by others that change mentions.
            applyFrame(state, edited(target.seq, target.mentions, previous,
              { id: target.id, user_id: target.user_id }));
          }
        } else if (action < 0.85) {
          const target = pick(visible);
          target.deleted = true;
          if (ownRoom) applyFrame(state, { type: "message_deleted", id: target.id });
          else applyFrame(state, { type: "activity_deleted", room: "news", ...target });
        } else {
          const seq = Math.min(model.lastSeq, Math.floor(random() * (model.lastSeq + 3)));
          if (seq > model.lastReadSeq) {
            model.lastReadSeq = seq;
            const [unread, mentions] = serverCounts(model);
            applyFrame(state, { type: "read", room: "news", seq, unread, mentions,
              last_seq: model.lastSeq });
          }
        }
        assert.deepEqual(shown(state), serverCounts(model), `seed ${seed}, step ${step}`);
      }
    }
  });
}

test("peer_presence sets the dot of the direct room with that person, both ways", () => {
  const state = roomsFrom([
    { name: "dm-1-2", kind: "direct", peer: { id: BOB, username: "bob", online: false } },
    { name: "dm-1-3", kind: "direct", peer: { id: 3, username: "cat", online: false } },
    { name: "news", kind: "public" },
  ]);
  assert.equal(applyPeerPresence(state, { type: "peer_presence", user_id: BOB, online: true }),
    true);
  assert.equal(state.get("dm-1-2").peer.online, true);
  assert.equal(state.get("dm-1-3").peer.online, false);
  assert.equal(applyPeerPresence(state, { user_id: BOB, online: true }), false, "no news");
  const frames = { rooms: state, me: ME, known: new Map() };
  assert.equal(applyFrame(frames, { type: "peer_presence", user_id: BOB, online: false }).changed,
    true);
  assert.equal(state.get("dm-1-2").peer.online, false);
  assert.equal(applyFrame(frames, { type: "peer_presence", user_id: 9, online: true }).changed,
    false);
});
