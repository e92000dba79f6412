// Reactions on a message: applying `reaction` frames, toggling, and saying who reacted.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  applyReaction,
  hasReacted,
  reactionLabel,
  reactorsText,
  toggleFrame,
} from "../static/chat/reactions.js";

const ann = { id: 1, username: "ann" };
const bob = { id: 2, username: "bob" };
const names = new Map([
  [1, "ann"],
  [2, "bob"],
  [3, "carol"],
]);
const nameOf = (id) => names.get(id);

test("a first reaction adds the emoji at the end, in first-appearance order", () => {
  const before = [{ emoji: "👍", count: 1, users: [2] }];
  const after = applyReaction(before, { emoji: "🎉", user: ann, added: true, count: 1 });
  assert.deepEqual(after, [
    { emoji: "👍", count: 1, users: [2] },
    { emoji: "🎉", count: 1, users: [1] },
  ]);
  assert.deepEqual(before, [{ emoji: "👍", count: 1, users: [2] }], "the old list is unchanged");
});

test("another user's reaction joins the emoji's users and takes the server's count", () => {
  const before = [{ emoji: "👍", count: 1, users: [2] }];
  const after = applyReaction(before, { emoji: "👍", user: ann, added: true, count: 2 });
  assert.deepEqual(after, [{ emoji: "👍", count: 2, users: [2, 1] }]);
});

test("a repeat that changed nothing leaves the users as they are", () => {
  const before = [{ emoji: "👍", count: 1, users: [1] }];
  const after = applyReaction(before, { emoji: "👍", user: ann, added: true, count: 1 });
  assert.deepEqual(after, before);
});

test("taking back the last reaction of an emoji removes it; others keep their place", () => {
  const before = [
    { emoji: "👍", count: 1, users: [1] },
    { emoji: "🎉", count: 2, users: [1, 2] },
  ];
  const after = applyReaction(before, { emoji: "👍", user: ann, added: false, count: 0 });
  assert.deepEqual(after, [{ emoji: "🎉", count: 2, users: [1, 2] }]);
  const again = applyReaction(after, { emoji: "🎉", user: bob, added: false, count: 1 });
  assert.deepEqual(again, [{ emoji: "🎉", count: 1, users: [1] }]);
});

test("taking back an emoji that is not there changes nothing", () => {
  const before = [{ emoji: "👍", count: 1, users: [2] }];
  assert.equal(applyReaction(before, { emoji: "🎉", user: ann, added: false, count: 0 }), before);
  assert.deepEqual(applyReaction(undefined, { emoji: "🎉", user: ann, added: false, count: 0 }), []);
});

test("clicking a reaction of mine takes it back; anyone else's adds mine", () => {
  const reactions = [
    { emoji: "👍", count: 1, users: [1] },
    { emoji: "🎉", count: 1, users: [2] },
  ];
  assert.deepEqual(toggleFrame(reactions, 7, "👍", 1), { type: "unreact", id: 7, emoji: "👍" });
  assert.deepEqual(toggleFrame(reactions, 7, "🎉", 1), { type: "react", id: 7, emoji: "🎉" });
  assert.deepEqual(toggleFrame(reactions, 7, "🔥", 1), { type: "react", id: 7, emoji: "🔥" });
  assert.equal(hasReacted(reactions[0], 1), true);
  assert.equal(hasReacted(reactions[1], 1), false);
});

test("who reacted is named, with you first, and the rest counted", () => {
  assert.equal(reactorsText({ emoji: "👍", count: 1, users: [2] }, nameOf, 1), "bob");
  assert.equal(reactorsText({ emoji: "👍", count: 2, users: [2, 1] }, nameOf, 1), "you and bob");
  assert.equal(
    reactorsText({ emoji: "👍", count: 3, users: [2, 3, 1] }, nameOf, 1),
    "you, bob and carol",
  );
  assert.equal(
    reactorsText({ emoji: "👍", count: 5, users: [2, 3, 1, 4, 5] }, nameOf, 1),
    "you, bob, carol and 2 others",
  );
});

test("reactions by people whose names are not known fall back to a count", () => {
  assert.equal(reactorsText({ emoji: "👍", count: 1, users: [9] }, nameOf, 1), "1 person");
  assert.equal(reactorsText({ emoji: "👍", count: 3, users: [8, 9, 10] }, nameOf, 1), "3 people");
  assert.equal(reactorsText({ emoji: "👍", count: 2, users: [2, 9] }, nameOf, 1), "bob and 1 other");
});

test("a reaction button's name says the emoji, the count and who", () => {
  const label = reactionLabel({ emoji: "🎉", count: 2, users: [1, 3] }, nameOf, 1);
  assert.equal(label, "🎉 2: reacted by you and carol");
});
