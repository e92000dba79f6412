// `@` completion in the composer (SPEC §10): typing `@` and letters offers the
// room's members, online ones first; arrows, Enter or Tab, Escape, or the mouse.
// The textarea keeps the focus and points at the highlighted option with
// aria-activedescendant (a textarea may not carry role="combobox").
// The text logic (mentionAt, suggestions, insertMention) is pure: jstests/mentions.test.mjs.

// Django's username characters (Unicode \w, as chat/formatting.py reads them) but "@",
// which here starts the mention.
const USERNAME_CHARACTER = /[\p{L}\p{M}\p{N}_.+-]/u;
const SHOWN = 8;

/**
 * The mention being typed at `caret`: `{ start, query }` where `start` is the index of
 * the `@`, or null when the caret is not in one. An `@` inside a word (an email
 * address) does not start one.
 */
export function mentionAt(text, caret) {
  let start = caret;
  while (start > 0 && USERNAME_CHARACTER.test(text[start - 1])) start -= 1;
  if (start === 0 || text[start - 1] !== "@") return null;
  const at = start - 1;
  if (at > 0 && (USERNAME_CHARACTER.test(text[at - 1]) || text[at - 1] === "@")) return null;
  return { start: at, query: text.slice(start, caret) };
}

/**
 * The members whose username starts with `query` (any case), online ones first,
 * then by username; without `me`, at most `limit`.
 */
export function suggestions(members, onlineIds, query, { me = null, limit = SHOWN } = {}) {
  const wanted = query.toLowerCase();
  const seen = new Set();
  const found = [];
  for (const member of members) {
    if (seen.has(member.id) || (me && member.id === me.id)) continue;
    seen.add(member.id);
    if (member.username.toLowerCase().startsWith(wanted)) found.push(member);
  }
  found.sort((a, b) => {
    const online = Number(onlineIds.has(b.id)) - Number(onlineIds.has(a.id));
    if (online) return online;
    return a.username.toLowerCase() < b.username.toLowerCase() ? -1 : 1;
  });
  return found.slice(0, limit);
}

/** `text` with the mention from `start` to `caret` replaced by `@username `, and the new caret. */
export function insertMention(text, start, caret, username) {
  const inserted = `@${username} `;
  const rest = text.slice(caret).replace(/^ /, "");
  return { value: text.slice(0, start) + inserted + rest, caret: start + inserted.length };
}

/** The listbox under the composer, fed by `members()` (a promise) and the online list. */
export class MentionCompleter {
  constructor({ composer, form, listbox, status, me, loadMembers }) {
    this.composer = composer;
    this.listbox = listbox;
    this.status = status;
    this.me = me;
    this.loadMembers = loadMembers;
    this.members = null;
    this.loading = null;
    this.online = [];
    this.options = [];
    this.active = -1;
    this.mention = null;

    composer.setAttribute("aria-autocomplete", "list");
    composer.setAttribute("aria-controls", listbox.id);
    // On the form, in the capture phase: before the composer's own Enter-to-send.
    form.addEventListener("keydown", (event) => this.onKeydown(event), true);
    composer.addEventListener("input", () => this.refresh());
    composer.addEventListener("click", () => this.refresh());
    composer.addEventListener("blur", () => this.close());
    // Keep the focus in the composer while the mouse picks.
    listbox.addEventListener("mousedown", (event) => event.preventDefault());
    listbox.addEventListener("click", (event) => {
      const option = event.target.closest('[role="option"]');
      if (option) this.pick(Number(option.dataset.index));
    });
  }

  /** The room's online users, from `hello` and `presence`. */
  setOnline(online) {
    this.online = online;
    if (this.isOpen) this.refresh();
  }

  get isOpen() {
    return !this.listbox.hidden;
  }

  refresh() {
    const composer = this.composer;
    const mention =
      composer.selectionStart === composer.selectionEnd
        ? mentionAt(composer.value, composer.selectionStart)
        : null;
    this.mention = mention;
    if (!mention) {
      this.close();
      return;
    }
    if (this.members === null) {
      this.loading ??= this.loadMembers()
        .then((members) => {
          this.members = members;
        })
        .catch(() => {
          this.members = [];
        })
        .finally(() => {
          this.loading = null;
          if (this.mention) this.refresh();
        });
    }
    // Online people are members too, and may have joined since the list was fetched.
    const people = [...this.online, ...(this.members ?? [])];
    const onlineIds = new Set(this.online.map((person) => person.id));
    this.show(suggestions(people, onlineIds, mention.query, { me: this.me }), onlineIds);
  }

  show(options, onlineIds) {
    const previous = this.options[this.active]?.id;
    this.options = options;
    if (!options.length) {
      this.close();
      return;
    }
    const kept = options.findIndex((option) => option.id === previous);
    this.active = kept >= 0 ? kept : 0;
    this.listbox.replaceChildren(
      ...options.map((person, index) => {
        const item = document.createElement("li");
        item.id = `${this.listbox.id}-${index}`;
        item.setAttribute("role", "option");
        item.dataset.index = String(index);
        item.dataset.testid = "mention-option";
        item.dataset.username = person.username;
        item.className = "mention-option";
        const name = document.createElement("span");
        name.textContent = `@${person.username}`;
        item.append(name);
        if (onlineIds.has(person.id)) {
          item.classList.add("is-online");
          const online = document.createElement("span");
          online.className = "mention-online";
          online.textContent = "online";
          item.append(online);
        }
        return item;
      }),
    );
    this.listbox.hidden = false;
    this.highlight();
    this.status.textContent = `${options.length} ${options.length === 1 ? "person" : "people"} to mention; arrows to choose, Enter to pick.`;
  }

  highlight() {
    for (const [index, item] of [...this.listbox.children].entries()) {
      const selected = index === this.active;
      item.setAttribute("aria-selected", String(selected));
      item.classList.toggle("is-active", selected);
      if (selected) item.scrollIntoView({ block: "nearest" });
    }
    this.composer.setAttribute("aria-activedescendant", `${this.listbox.id}-${this.active}`);
  }

  close() {
    if (!this.isOpen) return;
    this.listbox.hidden = true;
    this.listbox.replaceChildren();
    this.options = [];
    this.active = -1;
    this.composer.removeAttribute("aria-activedescendant");
    this.status.textContent = "";
  }

  pick(index) {
    const person = this.options[index];
    const mention = this.mention;
    if (!person || !mention) return;
    const composer = this.composer;
    const { value, caret } = insertMention(
      composer.value,
      mention.start,
      composer.selectionStart,
      person.username,
    );
    composer.value = value;
    composer.setSelectionRange(caret, caret);
    this.mention = null;
    this.close();
    composer.focus();
    // Resize and typing notice, as for typed text.
    composer.dispatchEvent(new Event("input", { bubbles: true }));
  }

  /** Whether the highlighted person's whole name is typed already (nothing to complete). */
  typedInFull() {
    const person = this.options[this.active];
    return Boolean(person && this.mention?.query.toLowerCase() === person.username.toLowerCase());
  }

  onKeydown(event) {
    if (event.target !== this.composer || !this.isOpen || event.isComposing) return;
    const count = this.options.length;
    let handled = true;
    if (event.key === "ArrowDown") {
      this.active = (this.active + 1) % count;
      this.highlight();
    } else if (event.key === "ArrowUp") {
      this.active = (this.active - 1 + count) % count;
      this.highlight();
    } else if (event.key === "Enter" && !event.shiftKey && this.typedInFull()) {
      // "@bob" typed to the end: Enter sends, as it would without the list.
      this.mention = null;
      this.close();
      handled = false;
    } else if ((event.key === "Enter" && !event.shiftKey) || (event.key === "Tab" && !event.shiftKey)) {
      this.pick(this.active);
    } else if (event.key === "Escape") {
      this.mention = null;
      this.close();
    } else {
      handled = false;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }
}
