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
