// The message list: keeps one element per message id, in id order, plus the
// pending messages of this tab at the end. Each is a clone of the server's
// <template id="message-template"> (templates/chat/_message.html), the one
// markup of a message. User text only ever goes through textContent, never innerHTML.
import { readAttachments, renderAttachments } from "./attachments.js";
import { dayKey, formatDay, formatFull, formatTime, parseTimestamp } from "./time.js";

// Consecutive messages of one author closer together than this share a header.
const GROUP_WINDOW_MS = 5 * 60 * 1000;
const BOTTOM_SLACK_PX = 48;
const MAX_EDITOR_ROWS = 8;

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
    this.me = me;
    this.isModerator = isModerator;
    this.roomName = roomName;
    this.entries = new Map(); // id -> {message, node, created}
    this.ids = [];
    this.deleted = new Set();
    this.pending = new Map(); // client_id -> node
    this.editors = new Map(); // id -> {form, textarea, save, saving}
    this.marker = list.querySelector(".history-marker") ?? element("li", "history-marker");
    if (!this.marker.isConnected) list.prepend(this.marker);
  }

  get size() {
    return this.ids.length;
  }

  oldestId() {
    return this.ids[0];
  }

  has(id) {
    return this.entries.has(id);
  }

  /** Take over the messages the server rendered for readers without JavaScript. */
  adopt() {
    const messages = [];
    for (const node of this.list.querySelectorAll("li.message[data-id]")) {
      messages.push({
        id: Number(node.dataset.id),
        seq: Number(node.dataset.seq),
        user: {
          id: Number(node.dataset.userId),
          username: node.querySelector(".message-author").textContent,
        },
        body: node.querySelector(".message-body").textContent,
        created: node.querySelector("time")?.getAttribute("datetime") ?? null,
        edited: node.dataset.edited || null,
        client_id: node.dataset.clientId || null,
        attachments: readAttachments(node),
      });
      node.remove();
    }
    this.merge(messages);
    return messages;
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
    return true;
  }

  remove(id) {
    this.deleted.add(id);
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
    this.#fill(node, { user: this.me, created: new Date(item.queuedAt), edited: null, body: item.body });
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
      const continued =
        previous !== null &&
        !newDay &&
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
        : (this.pending.values().next().value ?? null);
    this.list.insertBefore(node, before);
    this.ids.splice(index, 0, message.id);
    this.entries.set(message.id, { message, node, created: parseTimestamp(message.created) });
  }

  #refresh(entry, message) {
    const { node } = entry;
    if (entry.message.body !== message.body) {
      node.querySelector(".message-body").textContent = message.body;
    }
    if (message.edited && message.edited !== entry.message.edited) {
      const previousMark = node.querySelector(".message-edited");
      if (previousMark) removeWithSpace(previousMark);
      const mark = this.template.querySelector(".message-edited").cloneNode(true);
      node.querySelector(".message-meta").append(" ", mark);
      this.#fillEdited(mark, message.edited);
      node.dataset.edited = message.edited;
    }
    entry.message = { ...entry.message, body: message.body, edited: message.edited };
  }

  #render(message) {
    const own = message.user.id === this.me.id;
    const node = this.#clone();
    if (own) node.classList.add("is-own");
    node.dataset.id = String(message.id);
    node.dataset.seq = String(message.seq);
    node.dataset.userId = String(message.user.id);
    if (message.edited) node.dataset.edited = message.edited;
    this.#fill(node, { ...message, created: parseTimestamp(message.created) });
    renderAttachments(node, message.attachments);
    removeWithSpace(node.querySelector(".pending-status"));
    if (!own && !this.isModerator) node.querySelector(".message-actions").remove();
    else if (!own) node.querySelector('[data-action="edit"]').remove();
    return node;
  }

  #clone() {
    return this.template.cloneNode(true);
  }

  /** Put one message's text into a clone of the template; user text only through textContent. */
  #fill(node, { user, created, edited, body }) {
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
    node.querySelector(".message-body").textContent = body;
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
