// Reactions on a message (SPEC §11): the pure part. A message's `reactions` is
// [{emoji, count, users: [ids]}] in the order each emoji first appeared; a
// `reaction` frame {id, emoji, user, added, count} changes one entry.

/** `reactions` after the change a `reaction` frame reports; the server's count wins. */
export function applyReaction(reactions, { emoji, user, added, count }) {
  const list = reactions ?? [];
  const index = list.findIndex((reaction) => reaction.emoji === emoji);
  const userId = user?.id;
  if (index === -1) {
    if (!added || !(count > 0)) return list;
    return [...list, { emoji, count, users: userId === undefined ? [] : [userId] }];
  }
  const current = list[index];
  let users = current.users ?? [];
  if (added && userId !== undefined && !users.includes(userId)) users = [...users, userId];
  if (!added) users = users.filter((id) => id !== userId);
  const total = Number.isInteger(count) ? count : users.length;
  if (total <= 0) return list.filter((_, position) => position !== index);
  const next = [...list];
  next[index] = { emoji, count: total, users };
  return next;
}

/** Whether `userId` is among those who reacted with this emoji. */
export function hasReacted(reaction, userId) {
  return (reaction.users ?? []).includes(userId);
}

/** The frame that toggles `emoji` on message `id` for `userId`: react or unreact. */
export function toggleFrame(reactions, id, emoji, userId) {
  const reaction = (reactions ?? []).find((candidate) => candidate.emoji === emoji);
  const type = reaction && hasReacted(reaction, userId) ? "unreact" : "react";
  return { type, id, emoji };
}

function joinNames(names) {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/**
 * Who reacted, in words: "you, ann and bob", "ann and 2 others", or "3 people"
 * when no name is known. `nameOf(id)` gives a username or undefined.
 */
export function reactorsText(reaction, nameOf, meId, shown = 3) {
  const count = Math.max(reaction.count ?? 0, (reaction.users ?? []).length);
  const names = [];
  for (const id of reaction.users ?? []) {
    const name = id === meId ? "you" : nameOf(id);
    if (name) names.push(name);
  }
  // "you" first: it is what the reader looks for.
  names.sort((a, b) => (a === "you" ? -1 : b === "you" ? 1 : 0));
  if (!names.length) return `${count} ${count === 1 ? "person" : "people"}`;
  const listed = names.slice(0, shown);
  const others = count - listed.length;
  if (others > 0) return `${listed.join(", ")} and ${others} ${others === 1 ? "other" : "others"}`;
  return joinNames(listed);
}

/** The accessible name (and tooltip) of a reaction button: "👍 2: ann and you". */
export function reactionLabel(reaction, nameOf, meId) {
  return `${reaction.emoji} ${reaction.count}: reacted by ${reactorsText(reaction, nameOf, meId, 10)}`;
}
