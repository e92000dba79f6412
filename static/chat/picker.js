// The emoji picker: the common emoji and a search by name (emoji.js), opened
// from a message's "React" button. A non-modal dialog outside the message log
// (so screen readers do not hear it as a new message), placed under the message.
// Keyboard: it opens on the search field; arrows move between emoji, Enter picks,
// Escape closes and returns to the button that opened it.
import { element } from "./messages.js";
import { searchEmoji } from "./emoji.js";

const GAP_PX = 4;

export class EmojiPicker {
  /** `container`: a positioned ancestor of `list`; `onPick(messageId, emoji)`. */
  constructor(container, list, { onPick }) {
    this.container = container;
    this.list = list;
    this.onPick = onPick;
    this.messageId = null;
    this.opener = null;
    this.node = this.#build();
    container.append(this.node);
    list.addEventListener("scroll", () => {
      if (this.isOpen) this.#place();
    });
    document.addEventListener("pointerdown", (event) => {
      if (!this.isOpen) return;
      if (this.node.contains(event.target) || this.opener?.contains(event.target)) return;
      this.close({ restoreFocus: false });
    });
  }

  get isOpen() {
    return !this.node.hidden;
  }

  /** Open for message `messageId`, under `messageNode`; `opener` gets the focus back. */
  open(messageId, messageNode, opener) {
    if (this.isOpen && this.messageId === messageId) {
      this.close();
      return;
    }
    this.close({ restoreFocus: false });
    this.messageId = messageId;
    this.messageNode = messageNode;
    this.opener = opener;
    opener?.setAttribute("aria-expanded", "true");
    this.search.value = "";
    this.#show("");
    this.node.hidden = false;
    this.#place();
    this.search.focus({ preventScroll: true });
  }

  close({ restoreFocus = true } = {}) {
    if (!this.isOpen) return;
    this.node.hidden = true;
    this.opener?.setAttribute("aria-expanded", "false");
    if (restoreFocus && this.opener?.isConnected) this.opener.focus({ preventScroll: true });
    this.messageId = null;
    this.messageNode = null;
    this.opener = null;
  }

  #build() {
    const node = element("div", "emoji-picker");
    node.hidden = true;
    node.id = "emoji-picker";
    node.dataset.testid = "emoji-picker";
    node.setAttribute("role", "dialog");
    node.setAttribute("aria-label", "Add a reaction");
    const label = element("label", "visually-hidden", "Search emoji by name");
    label.htmlFor = "emoji-search";
    this.search = element("input", "emoji-search");
    this.search.type = "search";
    this.search.id = "emoji-search";
    this.search.placeholder = "Search emoji";
    this.search.autocomplete = "off";
    this.search.dataset.testid = "emoji-search";
    this.options = element("div", "emoji-options");
    this.options.setAttribute("role", "group");
    this.options.setAttribute("aria-label", "Emoji");
    this.empty = element("p", "emoji-empty hint", "No emoji by that name.");
    this.empty.hidden = true;
    node.append(label, this.search, this.options, this.empty);

    this.search.addEventListener("input", () => this.#show(this.search.value));
    this.search.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        const first = this.options.querySelector("button");
        if (first) this.#pick(first.dataset.emoji);
      } else if (event.key === "ArrowDown") {
        event.preventDefault();
        this.options.querySelector("button")?.focus();
      }
    });
    this.options.addEventListener("click", (event) => {
      const option = event.target.closest("button[data-emoji]");
      if (option) this.#pick(option.dataset.emoji);
    });
    this.options.addEventListener("keydown", (event) => this.#move(event));
    node.addEventListener("focusout", (event) => {
      // Tabbing away from the picker closes it; a click elsewhere is handled on pointerdown.
      const next = event.relatedTarget;
      if (next && !node.contains(next) && next !== this.opener) this.close({ restoreFocus: false });
    });
    node.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        this.close();
      }
    });
    return node;
  }

  #show(query) {
    const found = searchEmoji(query);
    this.options.replaceChildren(
      ...found.map(({ emoji, name }) => {
        const option = element("button", "emoji-option", emoji);
        option.type = "button";
        option.dataset.emoji = emoji;
        option.dataset.testid = "emoji-option";
        option.setAttribute("aria-label", name);
        option.title = name;
        return option;
      }),
    );
    this.empty.hidden = found.length > 0;
  }

  #pick(emoji) {
    const messageId = this.messageId;
    this.close();
    if (messageId !== null) this.onPick(messageId, emoji);
  }

  /** Arrow keys between the emoji: left and right by one, up and down by a row. */
  #move(event) {
    const buttons = [...this.options.querySelectorAll("button")];
    const index = buttons.indexOf(document.activeElement);
    if (index === -1) return;
    const top = buttons[0].offsetTop;
    const columns = Math.max(1, buttons.filter((button) => button.offsetTop === top).length);
    const steps = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -columns, ArrowDown: columns };
    if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      buttons[event.key === "Home" ? 0 : buttons.length - 1].focus();
      return;
    }
    if (!(event.key in steps)) return;
    event.preventDefault();
    const next = index + steps[event.key];
    if (next < 0) this.search.focus();
    else buttons[Math.min(next, buttons.length - 1)].focus();
  }

  /** Under the message when there is room, else above it; always inside the container. */
  #place() {
    if (!this.messageNode?.isConnected) {
      this.close({ restoreFocus: false });
      return;
    }
    const box = this.container.getBoundingClientRect();
    const anchor = this.messageNode.getBoundingClientRect();
    const width = this.node.offsetWidth;
    const height = this.node.offsetHeight;
    let top = anchor.bottom - box.top + GAP_PX;
    if (top + height > box.height) top = anchor.top - box.top - height - GAP_PX;
    top = Math.max(0, Math.min(top, box.height - height));
    const left = Math.max(0, Math.min(anchor.right - box.left - width, box.width - width));
    this.node.style.setProperty("--picker-top", `${top}px`);
    this.node.style.setProperty("--picker-left", `${left}px`);
  }
}
