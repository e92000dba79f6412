// What the reader does on the room page: writing, replying, reacting, scrolling
// the list, jumping to a message, editing, deleting and reporting. Listeners only: each
// turns an event into one of the room's actions.
import { rowsFor } from "./messages.js";

const COMPOSER_MAX_ROWS = 8;

/** Grow the composer with its text, up to a limit. */
export function resizeComposer(composer) {
  composer.rows = rowsFor(composer.value, COMPOSER_MAX_ROWS);
}

function isPlainEnter(event) {
  return (
    event.key === "Enter" &&
    !event.shiftKey &&
    !event.altKey &&
    !event.isComposing &&
    event.keyCode !== 229 // IME confirmation in some browsers
  );
}

function messageIdOf(node) {
  return Number(node.closest("li.message")?.dataset.id);
}

/** Whether a click should follow its link here rather than open it elsewhere. */
function isPlainClick(event) {
  return event.button === 0 && !event.ctrlKey && !event.metaKey && !event.shiftKey && !event.altKey;
}

/**
 * Wire the page's controls to `actions`: submit(), typed(), loadOlder(),
 * maybeLoadOlder(), maybeLoadNewer(), followsLatest(), jumpToLatest(), remove(id),
 * saveEdit(id), reply(id), cancelReply(), replying(), openPicker(id, node, opener),
 * react(id, emoji), jump(id), copyLink(id, control), copyCode(control), report(id, control),
 * reconnect().
 */
export function bindInput(ui, view, actions) {
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    actions.submit();
  });

  ui.composer.addEventListener("keydown", (event) => {
    if (isPlainEnter(event)) {
      event.preventDefault();
      actions.submit();
    } else if (event.key === "Escape" && actions.replying()) {
      event.preventDefault();
      actions.cancelReply();
    }
  });

  ui.replyCancel.addEventListener("click", () => {
    actions.cancelReply();
    ui.composer.focus();
  });

  ui.composer.addEventListener("input", () => {
    resizeComposer(ui.composer);
    if (ui.composer.value.trim()) actions.typed();
  });

  let scrollQueued = false;
  ui.list.addEventListener("scroll", () => {
    if (scrollQueued) return;
    scrollQueued = true;
    requestAnimationFrame(() => {
      scrollQueued = false;
      if (view.isAtBottom() && actions.followsLatest()) ui.newMessages.hidden = true;
      actions.maybeLoadOlder();
      actions.maybeLoadNewer();
    });
  });

  // Keep the newest message in view while the list resizes (keyboard, composer growth).
  let wasAtBottom = view.isAtBottom();
  ui.list.addEventListener("scroll", () => {
    wasAtBottom = view.isAtBottom();
  });
  new ResizeObserver(() => {
    if (wasAtBottom && actions.followsLatest()) view.scrollToBottom();
  }).observe(ui.list);

  ui.newMessages.addEventListener("click", () => {
    if (!actions.followsLatest()) {
      actions.jumpToLatest();
      return;
    }
    view.scrollToBottom();
    ui.newMessages.hidden = true;
    ui.composer.focus();
  });

  // Touch screens have no hover: a tap on a message shows its actions (see jabber.css).
  const noHover = window.matchMedia("(hover: none)");
  function selectMessage(node) {
    for (const selected of ui.list.querySelectorAll("li.message.is-selected")) {
      if (selected !== node) selected.classList.remove("is-selected");
    }
    if (node && noHover.matches && node.querySelector(".message-actions")) {
      if (node.classList.toggle("is-selected")) node.scrollIntoView({ block: "nearest" });
    }
  }

  ui.list.addEventListener("click", (event) => {
    const quote = event.target.closest("a.message-reply[href]");
    if (quote && isPlainClick(event)) {
      // Stay on the page: show the original here, loading the messages around it if needed.
      event.preventDefault();
      actions.jump(Number(quote.dataset.replyId));
      return;
    }
    const target = event.target.closest("button[data-action]");
    if (!target) {
      if (!event.target.closest(".message-editor")) selectMessage(event.target.closest("li.message"));
      return;
    }
    const action = target.dataset.action;
    if (action === "load-older") {
      actions.loadOlder();
    } else if (action === "load-newer") {
      actions.maybeLoadNewer(true);
    } else if (action === "reply") {
      actions.reply(messageIdOf(target));
    } else if (action === "react") {
      actions.openPicker(messageIdOf(target), target.closest("li.message"), target);
    } else if (action === "toggle-reaction") {
      actions.react(messageIdOf(target), target.dataset.emoji);
    } else if (action === "copy-link") {
      actions.copyLink(messageIdOf(target), target);
    } else if (action === "report") {
      actions.report(messageIdOf(target), target);
    } else if (action === "copy-code") {
      actions.copyCode(target);
    } else if (action === "edit") {
      view.startEdit(messageIdOf(target));
    } else if (action === "cancel-edit") {
      view.closeEdit(messageIdOf(target));
    } else if (action === "delete") {
      const id = messageIdOf(target);
      if (window.confirm("Delete this message for everyone?")) actions.remove(id);
    }
  });

  ui.list.addEventListener("submit", (event) => {
    const form = event.target.closest(".message-editor");
    if (!form) return;
    event.preventDefault();
    actions.saveEdit(Number(form.dataset.id));
  });

  ui.list.addEventListener("keydown", (event) => {
    const textarea = event.target.closest(".message-editor-input");
    if (!textarea) return;
    const id = messageIdOf(textarea);
    if (event.key === "Escape") {
      event.preventDefault();
      view.closeEdit(id);
    } else if (isPlainEnter(event)) {
      event.preventDefault();
      actions.saveEdit(id);
    }
  });

  ui.list.addEventListener("input", (event) => {
    const textarea = event.target.closest(".message-editor-input");
    if (textarea) textarea.rows = rowsFor(textarea.value);
  });

  // Phones fold the online list away; wider screens always show it.
  const narrow = window.matchMedia("(max-width: 47.99rem)");
  const fitOnlinePanel = () => {
    ui.onlinePanel.open = !narrow.matches;
  };
  narrow.addEventListener("change", fitOnlinePanel);
  fitOnlinePanel();

  ui.reconnect.addEventListener("click", () => actions.reconnect());
}
