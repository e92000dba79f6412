// The picker's search by name over the built-in table.
import assert from "node:assert/strict";
import { test } from "node:test";

import { COMMON, EMOJI, emojiName, searchEmoji } from "../static/chat/emoji.js";

test("a blank search offers the common emoji, in their order", () => {
  assert.deepEqual(
    searchEmoji("  ").map(({ emoji }) => emoji),
    COMMON,
  );
  assert.equal(COMMON.length, 10);
});

test("every common emoji has a name to read out", () => {
  for (const emoji of COMMON) assert.notEqual(emojiName(emoji), emoji);
});

test("a search matches names and other words, names that start with it first", () => {
  const hearts = searchEmoji("heart").map(({ emoji }) => emoji);
  assert.equal(hearts[0], "❤️");
  assert.ok(hearts.includes("💔"));
  assert.deepEqual(
    searchEmoji("THUMB").map(({ emoji }) => emoji),
    ["👍", "👎"],
  );
  assert.ok(searchEmoji("tada").some(({ emoji }) => emoji === "🎉"));
});

test("every word of a search must match", () => {
  assert.deepEqual(
    searchEmoji("broken heart").map(({ emoji }) => emoji),
    ["💔"],
  );
  assert.deepEqual(searchEmoji("no such emoji anywhere"), []);
});

test("the table lists each emoji once, fully qualified where Unicode asks for U+FE0F", () => {
  const emoji = EMOJI.map(([character]) => character);
  assert.equal(new Set(emoji).size, emoji.length);
  for (const character of ["❤️", "✌️", "☝️", "⚠️", "☀️", "❄️", "✍️", "🛠️", "🌧️"]) {
    assert.ok(emoji.includes(character), character);
    assert.ok(character.endsWith("\uFE0F"), character);
  }
});
