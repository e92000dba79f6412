// Replies (SPEC §11): the pure part. MESSAGE `reply_to` is null or
// {id, user, excerpt, deleted}; the composer keeps the same shape while the
// reader writes a reply, so a pending reply shows its quote like a stored one.

const EXCERPT_LENGTH = 100;

/** `text` on one line, at most `length` characters (code points), "…" when cut. */
export function excerpt(text, length = EXCERPT_LENGTH) {
  const flat = String(text ?? "").replace(/\s+/g, " ").trim();
  const characters = [...flat];
  if (characters.length <= length) return flat;
  return `${characters.slice(0, length).join("").trimEnd()}…`;
}

/** What the quote above a reply says: {author, text, deleted}. */
export function quoteParts(replyTo) {
  if (!replyTo) return null;
  const author = replyTo.user?.username ?? "";
  if (replyTo.deleted) return { author, text: "deleted message", deleted: true };
  return { author, text: excerpt(replyTo.excerpt) || "…", deleted: false };
}

/** A reply_to for message `message` whose text (without markup) is `text`. */
export function replyTarget(message, text) {
  return { id: message.id, user: message.user, excerpt: excerpt(text), deleted: false };
}

/** `reply_to` once its original is gone: SPEC §11 empties the excerpt. */
export function originalDeleted(replyTo) {
  return replyTo && !replyTo.deleted ? { ...replyTo, excerpt: "", deleted: true } : replyTo;
}

/** Whether a `reply_to` value is one we can show (survives sessionStorage and old servers). */
export function isReplyTo(value) {
  return (
    value !== null &&
    typeof value === "object" &&
    Number.isInteger(value.id) &&
    typeof value.user?.username === "string"
  );
}
