// `@` completion: finding the mention at the caret, ranking members, inserting the pick.
import assert from "node:assert/strict";
import { test } from "node:test";

import { insertMention, mentionAt, suggestions } from "../static/chat/mentions.js";

const ann = { id: 1, username: "ann" };
const anna = { id: 2, username: "Anna" };
const andy = { id: 3, username: "andy" };
const bob = { id: 4, username: "bob" };

test("an @ at the start or after a space starts a mention up to the caret", () => {
  assert.deepEqual(mentionAt("@an", 3), { start: 0, query: "an" });
  assert.deepEqual(mentionAt("hi @an there", 6), { start: 3, query: "an" });
  assert.deepEqual(mentionAt("hi @", 4), { start: 3, query: "" });
  assert.deepEqual(mentionAt("merci @josé", 11), { start: 6, query: "josé" });
});

test("an @ inside a word, or no @ before the caret, is not a mention", () => {
  assert.equal(mentionAt("mail ann@example", 16), null);
  assert.equal(mentionAt("hello", 5), null);
  assert.equal(mentionAt("@ann done", 9), null);
  assert.equal(mentionAt("@@ann", 5), null);
});

test("suggestions match the start of the username in any case, online people first", () => {
  const online = new Set([andy.id]);
  const found = suggestions([ann, anna, andy, bob], online, "AN");
  assert.deepEqual(
    found.map((person) => person.username),
    ["andy", "ann", "Anna"],
  );
});

test("suggestions leave out yourself and repeats, and stop at the limit", () => {
  const found = suggestions([ann, anna, ann, andy, bob], new Set(), "", { me: ann, limit: 2 });
  assert.deepEqual(
    found.map((person) => person.id),
    [andy.id, anna.id],
  );
});

test("picking replaces the typed part with the username and a space, caret after it", () => {
  assert.deepEqual(insertMention("hi @an", 3, 6, "anna"), { value: "hi @anna ", caret: 9 });
  assert.deepEqual(insertMention("hi @an and you", 3, 6, "anna"), {
    value: "hi @anna and you",
    caret: 9,
  });
});
