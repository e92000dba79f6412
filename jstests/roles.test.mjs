// Roles: which `role` frames change the page, and how.
import assert from "node:assert/strict";
import { test } from "node:test";

import { roleChange } from "../static/chat/roles.js";

test("owner and moderator moderate; member does not", () => {
  assert.deepEqual(roleChange({ type: "role", room: "town", role: "owner" }, "town"), {
    role: "owner",
    moderates: true,
  });
  assert.equal(roleChange({ type: "role", room: "town", role: "moderator" }, "town").moderates, true);
  assert.equal(roleChange({ type: "role", room: "town", role: "member" }, "town").moderates, false);
});

test("a frame for another room, or with an unknown role, changes nothing", () => {
  assert.equal(roleChange({ type: "role", room: "garden", role: "owner" }, "town"), null);
  assert.equal(roleChange({ type: "role", room: "town", role: "admin" }, "town"), null);
  assert.equal(roleChange({ type: "role", room: "town" }, "town"), null);
  assert.equal(roleChange(null, "town"), null);
});

test("unknown fields are ignored", () => {
  const frame = { type: "role", room: "town", role: "moderator", since: 5, by: { id: 1 } };
  assert.deepEqual(roleChange(frame, "town"), { role: "moderator", moderates: true });
});

test("the frame's moderates wins over its role: a site moderator who is a plain member", () => {
  const frame = { type: "role", room: "town", role: "member", moderates: true };
  assert.deepEqual(roleChange(frame, "town"), { role: "member", moderates: true });
});

test("moderates false hides the controls even from a room moderator role", () => {
  const frame = { type: "role", room: "town", role: "moderator", moderates: false };
  assert.equal(roleChange(frame, "town").moderates, false);
});

test("a moderates that is not a boolean falls back to the role", () => {
  const frame = { type: "role", room: "town", role: "member", moderates: "yes" };
  assert.equal(roleChange(frame, "town").moderates, false);
});

test("without moderates, a site moderator who is a plain member still moderates", () => {
  const frame = { type: "role", room: "town", role: "member" };
  assert.equal(roleChange(frame, "town", { siteModerator: true }).moderates, true);
  assert.equal(roleChange(frame, "town", { siteModerator: false }).moderates, false);
});

test("the frame's moderates false wins over the page's site moderator word", () => {
  const frame = { type: "role", room: "town", role: "member", moderates: false };
  assert.equal(roleChange(frame, "town", { siteModerator: true }).moderates, false);
});
