// Your role in the room (docs/protocol.md, "role"): the server enforces what each role may do;
// this only shows or hides the moderator controls without a reload.
// roleChange is pure: jstests/roles.test.mjs.

const ROLES = new Set(["owner", "moderator", "member"]);

/**
 * What a `role` frame changes for the page showing `currentRoom`: {role, moderates},
 * or null for another room or a role this page does not know. Other fields are ignored.
 * `moderates` is the frame's own (it counts the site-wide Moderators group, which a plain
 * room member may be in); a frame without it moderates by its room role, or by
 * `siteModerator` (the page's word, from when it loaded, that you are in that group).
 */
export function roleChange(frame, currentRoom, { siteModerator = false } = {}) {
  if (frame?.room !== currentRoom || !ROLES.has(frame.role)) return null;
  const moderates =
    typeof frame.moderates === "boolean"
      ? frame.moderates
      : frame.role !== "member" || Boolean(siteModerator);
  return { role: frame.role, moderates };
}

/**
 * The "Manage room" panel as the server renders it now for this user (its forms carry
 * their CSRF token and the members as they are), or null when the page has none for them.
 */
export async function fetchAdminPanel(path) {
  const response = await fetch(path, { headers: { Accept: "text/html" }, credentials: "same-origin" });
  if (!response.ok) return null;
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  return page.querySelector('[data-testid="room-admin"]');
}
