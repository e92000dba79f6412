// The message list: keeps one element per message id, in id order, plus the
// pending messages of this tab at the end. Each is a clone of the server's
// <template id="message-template"> (templates/chat/_message.html), the one
// markup of a message. User text only ever goes through textContent; the one
// exception is a MESSAGE's `html`, which the server rendered and sanitised (SPEC §11).
import { readAttachments, renderAttachments } from "./attachments.js";
import { hasReacted, reactionLabel, applyReaction as withReaction } from "./reactions.js";
import { excerpt, originalDeleted, quoteParts } from "./replies.js";
import { dayKey, formatDay, formatFull, formatTime, parseTimestamp } from "./time.js";

// Consecutive messages of one author closer together than this share a header.
const GROUP_WINDOW_MS = 5 * 60 * 1000;
const BOTTOM_SLACK_PX = 48;
const MAX_EDITOR_ROWS = 8;
const HIGHLIGHT_CLASS = "message--highlight";

export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(label, action, testid, className = "button button-small") {
  const node = element("button", className, label);
  node.type = "button";
  node.dataset.action = action;
  if (testid) node.dataset.testid = testid;
  return node;
}

/**
 * An avatar tile with the user's initial. The letter comes from CSS (attr(data-initial)),
 * so it stays out of the text of the message or list item; screen readers skip it.
 */
export function avatar(user, className = "avatar") {
  const node = element("span");
  node.setAttribute("aria-hidden", "true");
  return paintAvatar(node, user, className);
}

/** Give an avatar tile (made here or cloned from the template) the colour and initial of `user`. */
function paintAvatar(node, user, className = "avatar") {
  node.className = `${className} avatar-${String(user.id).slice(-1)}`;
  node.dataset.initial = ([...user.username][0] ?? "?").toUpperCase();
  return node;
}

/** Remove `node` and the space written before it in the template. */
function removeWithSpace(node) {
  const before = node.previousSibling;
  if (before?.nodeType === Node.TEXT_NODE && !before.textContent.trim()) before.remove();
  node.remove();
}

/** Rows for a textarea holding `text`: one per line, within bounds. */
export function rowsFor(text, max = MAX_EDITOR_ROWS) {
  return Math.min(max, Math.max(1, text.split("\n").length));
}

/** The address of message `id` in room `roomName` (SPEC §11), relative to the site. */
export function messageLink(roomName, id) {
  return `/chat/${roomName}/?around=${id}#m-${id}`;
}

/** The space-separated integers of a data attribute. */
function integers(text) {
  return (text ?? "").split(" ").filter(Boolean).map(Number);
}

/** Index of the first id >= `id` in a sorted array. */
function lowerBound(ids, id) {
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (ids[middle] < id) low = middle + 1;
    else high = middle;
  }
  return low;
}

export class MessageView {
  /** `template`: the server-rendered <template> holding the one markup of a message. */
  constructor(list, { template, me, isModerator, roomName }) {
    this.list = list;
    this.template = template.content.querySelector("li.message");
    // One reaction button of the template: the markup each reaction is cloned from.
    this.reactionPrototype = this.template.querySelector(".reaction");
    this.me = me;
    this.isModerator = isModerator;
    this.roomName = roomName;
    this.entries = new Map(); // id -> {message, node, created}
    this.ids = [];
    this.deleted = new Set();
    this.pending = new Map(); // client_id -> node
    this.editors = new Map(); // id -> {form, textarea, save, saving}
    this.names = new Map([[me.id, me.username]]); // user id -> username, for reaction labels
    this.highlighted = null;
    this.marker = list.querySelector(".history-marker") ?? element("li", "history-marker");
    if (!this.marker.isConnected) list.prepend(this.marker);
    // The line below the newest message while newer ones exist (a page opened at a message).
    this.newerMarker =
      list.querySelector(".history-marker-newer") ?? element("li", "history-marker history-marker-newer");
  }

  get size() {
    return this.ids.length;
  }

  oldestId() {
    return this.ids[0];
  }

  newestId() {
    return this.ids[this.ids.length - 1];
  }

  /** The message shown as `id`, as last stored (undefined when not shown). */
  message(id) {
    return this.entries.get(id)?.message;
  }

  /** The text of message `id` without markup, as the reader sees it. */
  plainText(id) {
    const body = this.entries.get(id)?.node.querySelector(".message-body");
    if (!body) return "";
    const copy = body.cloneNode(true);
    for (const control of copy.querySelectorAll("button")) control.remove();
    return copy.textContent;
  }

  /** Remember the usernames of `users`, so reactions can say who reacted. */
  learnNames(users) {
    for (const user of users) {
      if (user && Number.isInteger(user.id) && typeof user.username === "string") {
        this.names.set(user.id, user.username);
      }
    }
  }

  has(id) {
    return this.entries.has(id);
  }

  /**
   * Take over the messages the server rendered for readers without JavaScript
   * (the same MESSAGE fields, read back from the markup); returns them and the
   * id of the one the page was opened at (`?around=`), if any.
   */
  adopt() {
    const messages = [];
    let highlighted = null;
    for (const node of this.list.querySelectorAll("li.message[data-id]")) {
      const id = Number(node.dataset.id);
      if (node.dataset.highlight) highlighted = id;
      const quote = node.querySelector(".message-reply");
      const deleted = Boolean(quote?.dataset.deleted);
      messages.push({
        id,
        seq: Number(node.dataset.seq),
        user: {
          id: Number(node.dataset.userId),
          username: node.querySelector(".message-author").textContent,
        },
        body: node.dataset.body ?? node.querySelector(".message-body").textContent,
        // Parsed by the browser from the server's sanitised html; it goes back in unchanged.
        html: node.querySelector(".message-body").innerHTML,
        created: node.querySelector("time")?.getAttribute("datetime") ?? null,
        edited: node.dataset.edited || null,
        client_id: node.dataset.clientId || null,
        mentions: integers(node.dataset.mentions),
        reply_to: quote
          ? {
              id: Number(quote.dataset.replyId),
              user: {
                id: Number(quote.dataset.replyUserId),
                username: quote.querySelector(".message-reply-author").textContent,
              },
              excerpt: deleted ? "" : quote.querySelector(".message-reply-excerpt").textContent,
              deleted,
            }
          : null,
        reactions: Array.from(node.querySelectorAll(".reaction[data-emoji]"), (button) => ({
          emoji: button.dataset.emoji,
          count: Number(button.dataset.count),
          users: integers(button.dataset.users),
        })),
        attachments: readAttachments(node),
      });
      node.remove();
    }
    this.merge(messages);
    return { messages, highlighted };
  }

  /** Show `messages` instead of everything shown now (a jump far from what was shown). */
  reset(messages) {
    for (const { node } of this.entries.values()) node.remove();
    this.entries.clear();
    this.ids = [];
    this.editors.clear();
    this.highlighted = null;
    this.merge(messages);
  }

  /** Add new messages and refresh known ones; returns the ones that were new. */
  merge(messages) {
    const added = [];
    for (const message of messages) {
      if (this.deleted.has(message.id)) continue;
      const entry = this.entries.get(message.id);
      if (entry) {
        this.#refresh(entry, message);
      } else {
        this.#insert(message);
        added.push(message);
      }
    }
    if (added.length) this.decorate();
    return added;
  }

  /** Apply an edit; false when the message is not shown here. */
  update(message) {
    const entry = this.entries.get(message.id);
    if (!entry) return false;
    this.#refresh(entry, message);
    // Replies shown here quote the new text (the server's excerpts are from when they loaded).
    const text = excerpt(this.plainText(message.id));
    for (const other of this.entries.values()) {
      const replyTo = other.message.reply_to;
      if (replyTo?.id === message.id && !replyTo.deleted && replyTo.excerpt !== text) {
        other.message = { ...other.message, reply_to: { ...replyTo, excerpt: text } };
        this.#fillReply(other.node, other.message.reply_to);
      }
    }
    return true;
  }

  remove(id) {
    this.deleted.add(id);
    // Replies to it now quote a deleted message (SPEC §11: no excerpt).
    for (const other of this.entries.values()) {
      if (other.message.reply_to?.id === id && !other.message.reply_to.deleted) {
        other.message = { ...other.message, reply_to: originalDeleted(other.message.reply_to) };
        this.#fillReply(other.node, other.message.reply_to);
      }
    }
    const entry = this.entries.get(id);
    if (!entry) return false;
    entry.node.remove();
    this.entries.delete(id);
    this.ids.splice(lowerBound(this.ids, id), 1);
    this.editors.delete(id);
    this.decorate();
    return true;
  }

  addPending(item) {
    const node = this.#clone();
    node.classList.add("is-own", "is-pending");
    node.dataset.pending = "true";
    node.dataset.clientId = item.clientId;
    node.dataset.queuedAt = String(item.queuedAt);
    this.#fill(node, {
      user: this.me,
      created: new Date(item.queuedAt),
      edited: null,
      body: item.body,
      reply_to: item.replyTo,
      reactions: [],
    });
    renderAttachments(node, item.attachments);
    node.querySelector(".message-actions").remove();
    this.list.append(node);
    this.pending.set(item.clientId, node);
    this.decorate();
  }

  setPendingStatus(clientId, text) {
    const status = this.pending.get(clientId)?.querySelector(".pending-status");
    if (status) status.textContent = text;
  }

  removePending(clientId) {
    const node = this.pending.get(clientId);
    if (!node) return;
    node.remove();
    this.pending.delete(clientId);
    this.decorate();
  }

  /**
   * Day separators and author grouping, recomputed after every change. A separator
   * already in place stays, so the live region does not announce it again.
   */
  decorate() {
    const kept = new Set();
    let previous = null;
    const visit = (node, userId, created) => {
      const day = created ? dayKey(created) : previous?.day;
      const newDay = Boolean(created) && day !== previous?.day;
      if (newDay) {
        const before = node.previousElementSibling;
        if (before?.classList.contains("day-separator") && before.dataset.day === day) {
          kept.add(before);
        } else {
          kept.add(this.list.insertBefore(this.#separator(created, day), node));
        }
      }
      // A reply keeps its header: its quote belongs above the text, under the author.
      const continued =
        previous !== null &&
        !newDay &&
        !node.querySelector(".message-reply") &&
        previous.userId === userId &&
        created !== null &&
        previous.created !== null &&
        created - previous.created < GROUP_WINDOW_MS;
      node.classList.toggle("is-continued", continued);
      previous = { userId, created, day };
    };
    for (const id of this.ids) {
      const entry = this.entries.get(id);
      visit(entry.node, entry.message.user.id, entry.created);
    }
    for (const node of this.pending.values()) {
      visit(node, this.me.id, new Date(Number(node.dataset.queuedAt)));
    }
    for (const separator of this.list.querySelectorAll("li.day-separator")) {
      if (!kept.has(separator)) separator.remove();
    }
  }

  /** The line above the oldest message: "more" (a button), "loading" or "start". */
  setMarker(state) {
    this.marker.dataset.history = state;
    if (state === "more") {
      this.marker.replaceChildren(button("Load older messages", "load-older", "load-older"));
    } else if (state === "loading") {
      this.marker.replaceChildren(element("span", "", "Loading older messages…"));
    } else if (this.size || this.pending.size) {
      this.marker.replaceChildren(element("span", "", `This is the beginning of #${this.roomName}.`));
    } else {
      this.marker.replaceChildren(element("span", "", "No messages yet. Say hello!"));
    }
  }

  // Reactions, highlight -----------------------------------------------------

  /** Apply a `reaction` frame; false when the message is not shown here. */
  applyReaction(frame) {
    this.learnNames([frame.user]);
    const entry = this.entries.get(frame.id);
    if (!entry) return false;
    const reactions = withReaction(entry.message.reactions, frame);
    entry.message = { ...entry.message, reactions };
    this.#fillReactions(entry.node, reactions);
    return true;
  }

  /** Mark message `id` as the one the reader went to, and bring it into view. */
  highlight(id, { focus = true } = {}) {
    const entry = this.entries.get(id);
    if (!entry) return false;
    if (this.highlighted !== null && this.highlighted !== id) {
      const previous = this.entries.get(this.highlighted)?.node;
      previous?.classList.remove(HIGHLIGHT_CLASS);
      previous?.removeAttribute("data-highlight");
    }
    this.highlighted = id;
    entry.node.classList.add(HIGHLIGHT_CLASS);
    entry.node.dataset.highlight = "true";
    entry.node.scrollIntoView({ block: "center" });
    if (focus) {
      // Keyboard and screen reader users land on it too; it is not a tab stop.
      entry.node.tabIndex = -1;
      entry.node.focus({ preventScroll: true });
    }
    return true;
  }

  /** The line below the newest message: "more" (a button), "loading" or "none" (gone). */
  setNewerMarker(state) {
    const marker = this.newerMarker;
    if (state === "none") {
      marker.remove();
      this.newerMarkerState = state;
      return;
    }
    if (this.newerMarkerState !== state) {
      this.newerMarkerState = state;
      marker.dataset.newer = state;
      marker.replaceChildren(
        state === "loading"
          ? element("span", "", "Loading newer messages…")
          : button("Load newer messages", "load-newer", "load-newer"),
      );
    }
    if (!marker.isConnected) {
      this.list.insertBefore(marker, this.pending.values().next().value ?? null);
    }
  }

  // Scrolling ---------------------------------------------------------------

  isAtBottom() {
    const { scrollHeight, scrollTop, clientHeight } = this.list;
    return scrollHeight - scrollTop - clientHeight < BOTTOM_SLACK_PX;
  }

  scrollToBottom() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  /** Run `change` (which adds content above) without moving what the reader sees. */
  keepPosition(change) {
    const { scrollHeight, scrollTop } = this.list;
    change();
    this.list.scrollTop = scrollTop + (this.list.scrollHeight - scrollHeight);
  }

  // Editing -------------------------------------------------------------------

  startEdit(id) {
    const entry = this.entries.get(id);
    if (!entry) return;
    const existing = this.editors.get(id);
    if (existing) {
      existing.textarea.focus();
      return;
    }
    const form = element("form", "message-editor");
    form.dataset.id = String(id);
    const textarea = element("textarea", "message-editor-input");
    textarea.id = `edit-${id}`;
    textarea.value = entry.message.body;
    textarea.rows = rowsFor(textarea.value);
    textarea.dataset.testid = "edit-input";
    const label = element("label", "visually-hidden", "Edit message");
    label.htmlFor = textarea.id;
    const save = element("button", "button button-small button-primary", "Save");
    save.type = "submit";
    save.dataset.testid = "edit-save";
    const actions = element("div", "message-editor-actions");
    actions.append(
      save,
      button("Cancel", "cancel-edit", "edit-cancel"),
      element("span", "hint", "Enter to save, Esc to cancel"),
    );
    form.append(label, textarea, actions);
    const body = entry.node.querySelector(".message-body");
    body.hidden = true;
    body.after(form);
    this.editors.set(id, { form, textarea, save, saving: false });
    textarea.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
  }

  editor(id) {
    return this.editors.get(id);
  }

  /** The text of message `id` as last stored, if it is shown. */
  entryBody(id) {
    return this.entries.get(id)?.message.body;
  }

  setEditSaving(id, saving) {
    const editor = this.editors.get(id);
    if (!editor) return;
    editor.saving = saving;
    editor.textarea.readOnly = saving;
    editor.save.disabled = saving;
    editor.save.textContent = saving ? "Saving…" : "Save";
    if (!saving) editor.textarea.focus();
  }

  closeEdit(id) {
    const editor = this.editors.get(id);
    const entry = this.entries.get(id);
    this.editors.delete(id);
    if (!editor || !entry) return;
    const hadFocus = editor.form.contains(document.activeElement);
    editor.form.remove();
    entry.node.querySelector(".message-body").hidden = false;
    if (hadFocus) entry.node.querySelector('[data-action="edit"]')?.focus();
  }

  // Rendering -----------------------------------------------------------------

  #insert(message) {
    const node = this.#render(message);
    const index = lowerBound(this.ids, message.id);
    const nextId = this.ids[index];
    const before =
      nextId !== undefined
        ? this.entries.get(nextId).node
        : this.newerMarker.isConnected
          ? this.newerMarker
          : (this.pending.values().next().value ?? null);
    this.list.insertBefore(node, before);
    this.ids.splice(index, 0, message.id);
    this.entries.set(message.id, { message, node, created: parseTimestamp(message.created) });
  }

  #refresh(entry, message) {
    const { node } = entry;
    if (message.html !== undefined && entry.message.html !== message.html) {
      this.#fillBody(node.querySelector(".message-body"), message);
    }
    if (message.reactions && message.reactions !== entry.message.reactions) {
      this.#fillReactions(node, message.reactions);
    }
    if (message.edited && message.edited !== entry.message.edited) {
      const previousMark = node.querySelector(".message-edited");
      if (previousMark) removeWithSpace(previousMark);
      const mark = this.template.querySelector(".message-edited").cloneNode(true);
      node.querySelector(".message-meta").append(" ", mark);
      this.#fillEdited(mark, message.edited);
      node.dataset.edited = message.edited;
    }
    entry.message = { ...entry.message, ...message };
  }

  #render(message) {
    const own = message.user.id === this.me.id;
    const node = this.#clone();
    if (own) node.classList.add("is-own");
    node.id = `m-${message.id}`;
    node.dataset.id = String(message.id);
    node.dataset.seq = String(message.seq);
    node.dataset.userId = String(message.user.id);
    if (message.edited) node.dataset.edited = message.edited;
    this.#fill(node, { ...message, created: parseTimestamp(message.created) });
    renderAttachments(node, message.attachments);
    removeWithSpace(node.querySelector(".pending-status"));
    node.querySelector(".message-permalink").href = messageLink(this.roomName, message.id);
    if (!own) node.querySelector('[data-action="edit"]').remove();
    // Reporting is for other people's messages.
    if (own) node.querySelector('[data-action="report"]')?.remove();
    if (!own) {
      // Kept, hidden, so that becoming a moderator (a `role` frame) shows it: setModerator.
      const remove = node.querySelector('[data-action="delete"]');
      remove.dataset.moderatorOnly = "true";
      remove.hidden = !this.isModerator;
    }
    return node;
  }

  /** Show or hide the delete button of other people's messages (your role changed). */
  setModerator(isModerator) {
    this.isModerator = isModerator;
    for (const button of this.list.querySelectorAll('[data-moderator-only="true"]')) {
      button.hidden = !isModerator;
    }
  }

  #clone() {
    return this.template.cloneNode(true);
  }

  /**
   * Put one message into a clone of the template: user text only through textContent,
   * and the server's `html` (when there is one: a pending message has only its body).
   */
  #fill(node, { user, created, edited, body, html, reply_to: replyTo, reactions }) {
    this.learnNames([user, replyTo?.user]);
    paintAvatar(node.querySelector(".avatar"), user);
    node.querySelector(".message-author").textContent = user.username;
    const time = node.querySelector(".message-time");
    time.textContent = created ? formatTime(created) : "";
    if (created) {
      time.dateTime = created.toISOString();
      time.title = formatFull(created);
    }
    const mark = node.querySelector(".message-edited");
    if (edited) this.#fillEdited(mark, edited);
    else removeWithSpace(mark);
    this.#fillBody(node.querySelector(".message-body"), { body, html });
    this.#fillReply(node, replyTo);
    this.#fillReactions(node, reactions ?? []);
  }

  #fillBody(bodyNode, { body, html }) {
    if (typeof html === "string") {
      // The one place the client inserts HTML: the server's sanitised rendering (SPEC §11).
      bodyNode.innerHTML = html;
      bodyNode.classList.remove("is-plain");
      enhanceCodeBlocks(bodyNode);
      for (const mention of bodyNode.querySelectorAll(".mention[data-user-id]")) {
        mention.classList.toggle("is-me", Number(mention.dataset.userId) === this.me.id);
      }
    } else {
      bodyNode.textContent = body;
      bodyNode.classList.add("is-plain");
    }
  }

  /** The quote above a reply: the original's author and excerpt, a link to it. */
  #fillReply(node, replyTo) {
    const quote = node.querySelector(".message-reply");
    if (!quote) return;
    if (!replyTo) {
      quote.remove();
      return;
    }
    const parts = quoteParts(replyTo);
    quote.querySelector(".message-reply-author").textContent = parts.author;
    quote.querySelector(".message-reply-excerpt").textContent = parts.text;
    quote.classList.toggle("is-deleted", parts.deleted);
    quote.dataset.replyId = String(replyTo.id);
    if (parts.deleted) {
      quote.removeAttribute("href");
      quote.dataset.deleted = "true";
    } else {
      quote.href = messageLink(this.roomName, replyTo.id);
      delete quote.dataset.deleted;
    }
  }

  /** The reaction buttons: emoji and count; who reacted in the name and the tooltip. */
  #fillReactions(node, reactions) {
    const row = node.querySelector(".reactions");
    const nameOf = (id) => this.names.get(id);
    row.replaceChildren(
      ...reactions.map((reaction) => {
        const button = this.reactionPrototype.cloneNode(true);
        const mine = hasReacted(reaction, this.me.id);
        button.dataset.action = "toggle-reaction";
        button.dataset.emoji = reaction.emoji;
        button.querySelector(".reaction-emoji").textContent = reaction.emoji;
        button.querySelector(".reaction-count").textContent = String(reaction.count);
        button.setAttribute("aria-pressed", String(mine));
        const label = reactionLabel(reaction, nameOf, this.me.id);
        button.setAttribute("aria-label", label);
        button.title = label;
        return button;
      }),
    );
    row.hidden = reactions.length === 0;
  }

  #fillEdited(mark, edited) {
    const date = parseTimestamp(edited);
    if (date) mark.title = `Edited ${formatFull(date)}`;
  }

  #separator(date, day) {
    // A plain list item: role="separator" is not allowed as a child of a list.
    const separator = element("li", "day-separator");
    separator.dataset.day = day;
    separator.append(element("span", "", formatDay(date)));
    return separator;
  }
}

/**
 * Code blocks of a rendered body: each `pre` gets a copy button beside it and
 * becomes a keyboard stop, since a long line scrolls it sideways.
 */
function enhanceCodeBlocks(bodyNode) {
  for (const pre of bodyNode.querySelectorAll("pre")) {
    const block = element("div", "code-block");
    pre.replaceWith(block);
    pre.tabIndex = 0;
    const copy = button("Copy", "copy-code", "copy-code", "button button-small code-copy");
    copy.setAttribute("aria-label", "Copy code");
    block.append(pre, copy);
  }
}
