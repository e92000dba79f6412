// The live room (protocol: docs/protocol.md). Configuration comes from the
// <script type="application/json" id="jabber-config"> the server renders.
//
// Stable hooks for end-to-end tests (data-testid):
//   messages          the message list (<ol>, inside a role="log" live region; also the scroller)
//   message           each message <li>; data-id, data-seq, data-user-id, and
//                     data-pending="true" + data-client-id while not yet echoed
//   message-author    its author;  message-body  its text;  message-edited  "(edited)"
//   message-edit, message-delete   buttons on messages you may change
//   edit-input, edit-save, edit-cancel   the inline editor
//   load-older        button above the oldest message while older ones exist
//   online-list       the online list <ul>; online-user  each entry (text = username)
//   online-count      the number of people online (digits only)
//   typing            "ann is typing…" (hidden and empty when nobody is)
//   connection-state  data-state = connecting | online | reconnecting | offline | banned | ended
//   reconnect         "Retry now" button while reconnecting
//   composer, send    the message textarea and its button
//   new-messages      the "New messages" jump button (hidden when at the bottom)
//   error             the error line (hidden when there is none)
//   banned-notice     shown when the server bans this user from the room
import { Connection } from "./connection.js";
import { MessageView, avatar, element, rowsFor } from "./messages.js";
import { Outbox } from "./outbox.js";
import { SequenceTracker } from "./sequence.js";

const HISTORY_PAGE = 50;
const REPAIR_PAGE = 100;
const REPAIR_GRACE_MS = 500; // a missing seq may just be reordered; wait before fetching
const TYPING_SHOWN_MS = 4000;
const LOAD_OLDER_THRESHOLD_PX = 120;
const ERROR_SHOWN_MS = 8000;
const COMPOSER_MAX_ROWS = 8;

const config = JSON.parse(document.getElementById("jabber-config").textContent);
const me = config.user;
const maxBody = config.maxBody;

const ui = {
  list: document.querySelector('[data-testid="messages"]'),
  newMessages: document.querySelector('[data-testid="new-messages"]'),
  onlinePanel: document.querySelector(".online-panel"),
  onlineList: document.querySelector('[data-testid="online-list"]'),
  onlineCount: document.querySelector('[data-testid="online-count"]'),
  typing: document.querySelector('[data-testid="typing"]'),
  state: document.querySelector('[data-testid="connection-state"]'),
  reconnect: document.querySelector('[data-testid="reconnect"]'),
  error: document.querySelector('[data-testid="error"]'),
  form: document.querySelector(".composer"),
  composer: document.querySelector('[data-testid="composer"]'),
  send: document.querySelector('[data-testid="send"]'),
  footer: document.querySelector(".room-footer"),
};

const view = new MessageView(ui.list, {
  me,
  isModerator: Boolean(config.isModerator),
  roomName: config.room,
});
const outbox = new Outbox(`jabber-outbox:${config.room}:${me.id}`);
const tracker = new SequenceTracker(config.lastSeq, config.lastId);

let hasMore = Boolean(config.hasMore);
let loadingOlder = false;
let repairing = false;
let repairTimer = null;
let historyRequests = []; // kinds of the history requests awaiting a reply, in order
const sentOn = new Map(); // client_id -> connection generation it was sent on
const heldUntil = new Map(); // client_id -> time before which it must not be resent
let flushTimer = null;
let lastTypingSent = 0;
const typers = new Map(); // user id -> {username, timer}
let errorTimer = null;
let errorCountdown = null;
let bannedDetail = "";

// Connection -------------------------------------------------------------------

const connection = new Connection({
  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const after = tracker.id > 0 ? `?after=${tracker.id}` : "";
    return `${scheme}//${location.host}${config.wsPath}${after}`;
  },
  pingInterval: config.pingInterval,
  onFrame: handleFrame,
  onState: showState,
  onClose() {
    historyRequests = [];
    loadingOlder = false;
    repairing = false;
    clearTimeout(repairTimer);
    repairTimer = null;
    refreshMarker();
    for (const item of outbox.items) view.setPendingStatus(item.clientId, "waiting for connection…");
  },
});

const handlers = {
  hello(frame) {
    const hadMessages = view.size > 0;
    if (frame.gap) {
      // Missed more than the server replays: start over from a fresh page.
      location.reload();
      return;
    }
    showOnline(frame.online);
    const stick = view.isAtBottom();
    resolveEchoes(frame.messages);
    view.merge(frame.messages);
    tracker.caughtUp(frame.messages, true);
    if (!hadMessages) hasMore = Boolean(frame.has_more);
    refreshMarker();
    if (stick) view.scrollToBottom();
    flushOutbox();
    maybeLoadOlder();
  },

  message(frame) {
    receiveLive(frame);
  },

  history(frame) {
    const kind =
      historyRequests.shift() ??
      (frame.messages.length && frame.messages[0].id > tracker.id ? "after" : "before");
    resolveEchoes(frame.messages);
    if (kind === "before") {
      view.keepPosition(() => view.merge(frame.messages));
      hasMore = Boolean(frame.has_more);
      loadingOlder = false;
      refreshMarker();
      // A tall window may still show the top: keep filling it.
      requestAnimationFrame(maybeLoadOlder);
      return;
    }
    const stick = view.isAtBottom();
    const added = view.merge(frame.messages);
    tracker.caughtUp(frame.messages, !frame.has_more);
    repairing = false;
    if (stick) view.scrollToBottom();
    else if (added.length) ui.newMessages.hidden = false;
    if (frame.has_more) requestRepair();
    else scheduleRepair();
  },

  pong(frame) {
    if (tracker.expect(frame.seq)) scheduleRepair();
  },

  presence(frame) {
    showOnline(frame.online);
  },

  typing(frame) {
    if (frame.user && frame.user.id !== me.id) showTyper(frame.user);
  },

  message_edited(frame) {
    const message = frame.message;
    view.update(message);
    const editor = view.editor(message.id);
    if (editor?.saving) view.closeEdit(message.id);
  },

  message_deleted(frame) {
    const stick = view.isAtBottom();
    view.remove(frame.id);
    if (frame.client_id) resolvePending(frame.client_id);
    refreshMarker();
    if (stick) view.scrollToBottom();
  },

  error(frame) {
    handleError(frame);
  },
};

function handleFrame(frame) {
  const handler = handlers[frame.type];
  if (handler) handler(frame);
}

function receiveLive(message) {
  const stick = view.isAtBottom();
  const ownEcho = resolveEchoes([message]);
  const added = view.merge([message]);
  if (added.length) refreshMarker(); // "No messages yet" no longer holds
  hideTyper(message.user.id);
  if (tracker.see(message.seq, message.id)) scheduleRepair();
  if (stick || ownEcho) view.scrollToBottom();
  else if (added.length) ui.newMessages.hidden = false;
}

// Outbox: pending messages until the server echoes them --------------------------

/** Drop the pending copies of our messages the server has stored; true if any. */
function resolveEchoes(messages) {
  let resolved = false;
  for (const message of messages) {
    if (message.client_id && message.user.id === me.id && outbox.has(message.client_id)) {
      resolvePending(message.client_id);
      resolved = true;
    }
  }
  return resolved;
}

function resolvePending(clientId) {
  outbox.remove(clientId);
  sentOn.delete(clientId);
  heldUntil.delete(clientId);
  view.removePending(clientId);
}

/** Send, in order, every outbox item not yet sent on this socket; once each. */
function flushOutbox() {
  clearTimeout(flushTimer);
  flushTimer = null;
  if (!connection.ready) return;
  for (const item of outbox.items) {
    if (sentOn.get(item.clientId) === connection.generation) continue;
    const wait = (heldUntil.get(item.clientId) ?? 0) - Date.now();
    if (wait > 0) {
      // Keep the order: later items wait behind a held one.
      flushTimer = setTimeout(flushOutbox, wait);
      return;
    }
    heldUntil.delete(item.clientId);
    const frame = { type: "message", body: item.body, client_id: item.clientId };
    if (!connection.send(frame)) return;
    sentOn.set(item.clientId, connection.generation);
    view.setPendingStatus(item.clientId, "sending…");
  }
}

function submitComposer() {
  const body = ui.composer.value.trim();
  if (!body) {
    showError("Type a message first.");
    return;
  }
  // The server counts code points, not UTF-16 units.
  const length = [...body].length;
  if (length > maxBody) {
    showError(`Your message is ${length} characters long; the limit is ${maxBody}.`);
    return;
  }
  clearError();
  const item = outbox.add(body);
  view.addPending(item);
  if (!connection.ready) view.setPendingStatus(item.clientId, "waiting for connection…");
  refreshMarker();
  ui.composer.value = "";
  resizeComposer();
  view.scrollToBottom();
  ui.newMessages.hidden = true;
  flushOutbox();
}

// History and seq-gap repair -------------------------------------------------------

function requestHistory(kind, frame) {
  if (!connection.send({ type: "history", ...frame })) return false;
  historyRequests.push(kind);
  return true;
}

function refreshMarker() {
  if (!loadingOlder) view.setMarker(hasMore ? "more" : "start");
}

function maybeLoadOlder() {
  if (!hasMore || loadingOlder || !connection.ready) return;
  if (ui.list.scrollTop > LOAD_OLDER_THRESHOLD_PX) return;
  loadOlder();
}

function loadOlder() {
  if (!hasMore || loadingOlder || view.oldestId() === undefined) return;
  if (requestHistory("before", { before: view.oldestId(), limit: HISTORY_PAGE })) {
    loadingOlder = true;
    view.setMarker("loading");
  }
}

function scheduleRepair() {
  if (!tracker.hasGap || repairing || repairTimer) return;
  repairTimer = setTimeout(() => {
    repairTimer = null;
    if (tracker.hasGap) requestRepair();
  }, REPAIR_GRACE_MS);
}

function requestRepair() {
  if (repairing) return;
  repairing = requestHistory("after", { after: tracker.id, limit: REPAIR_PAGE });
}

// Errors ----------------------------------------------------------------------------

const ERROR_TEXT = {
  bad_json: "The server could not read what was sent.",
  bad_request: "The server refused that request.",
  empty: "Type a message first.",
  too_long: `Messages can be at most ${maxBody} characters long.`,
  rate_limited: "You are sending too fast.",
  muted: "You are muted in this room: you can read, but not send.",
  room_locked: "This room is locked: it is read-only.",
  not_found: "That message no longer exists.",
  forbidden: "You are not allowed to do that.",
  banned: "You are banned from this room.",
};
const SEND_ERRORS = new Set(["rate_limited", "muted", "room_locked"]);

function handleError(frame) {
  const { code } = frame;
  if (code === "banned") {
    bannedDetail = frame.detail;
    connection.stop("banned");
    return;
  }
  if (!connection.ready) return; // a refused join; the connection retries on its own
  const retryAfter = Number(frame.retry_after) || 0;
  let clientId = frame.client_id;
  if (!clientId && SEND_ERRORS.has(code) && view.savingEditorId() === undefined) {
    // Without a client_id, blame the oldest message in flight: the server answers in order.
    clientId = outbox.items.find((item) => sentOn.get(item.clientId) === connection.generation)
      ?.clientId;
  }
  if (clientId && outbox.has(clientId)) {
    if (code === "rate_limited") {
      // Not stored, not lost: send it again when the server allows.
      sentOn.delete(clientId);
      heldUntil.set(clientId, Date.now() + retryAfter * 1000);
      view.setPendingStatus(clientId, "waiting to send…");
      flushOutbox();
    } else {
      // Refused for good: give the text back to the writer.
      const item = outbox.items.find((candidate) => candidate.clientId === clientId);
      resolvePending(clientId);
      if (!ui.composer.value.trim()) {
        ui.composer.value = item.body;
        resizeComposer();
      }
    }
  } else {
    const editing = view.savingEditorId();
    if (editing !== undefined) view.setEditSaving(editing, false);
    if (code === "bad_request" && historyRequests.length) {
      historyRequests.shift();
      loadingOlder = false;
      repairing = false;
    }
  }
  const text = ERROR_TEXT[code] ?? frame.detail ?? "Something went wrong.";
  if (code === "rate_limited" && retryAfter > 0) {
    showCountdown(text, retryAfter);
  } else {
    showError(text);
  }
}

function showError(text) {
  clearError();
  ui.error.textContent = text;
  ui.error.hidden = false;
  errorTimer = setTimeout(clearError, ERROR_SHOWN_MS);
}

function showCountdown(text, seconds) {
  clearError();
  const due = Date.now() + seconds * 1000;
  const tick = () => {
    const left = Math.ceil((due - Date.now()) / 1000);
    if (left <= 0) {
      clearError();
      return;
    }
    ui.error.textContent = `${text} Try again in ${left} s.`;
  };
  ui.error.hidden = false;
  tick();
  errorCountdown = setInterval(tick, 1000);
}

function clearError() {
  clearTimeout(errorTimer);
  clearInterval(errorCountdown);
  errorTimer = errorCountdown = null;
  ui.error.textContent = "";
  ui.error.hidden = true;
}

function showBannedNotice() {
  if (document.querySelector('[data-testid="banned-notice"]')) return;
  const notice = element("div", "banned-notice");
  notice.dataset.testid = "banned-notice";
  notice.setAttribute("role", "alert");
  const heading = element("h2", "", "You are banned from this room");
  const back = element("a", "", "Back to the rooms");
  back.href = "/chat/";
  const paragraphs = [];
  if (bannedDetail) paragraphs.push(element("p", "", bannedDetail));
  const backLine = element("p");
  backLine.append(back);
  notice.append(heading, ...paragraphs, backLine);
  ui.form.hidden = true;
  ui.composer.disabled = true;
  ui.send.disabled = true;
  for (const item of outbox.items) view.removePending(item.clientId);
  outbox.clear();
  clearError();
  ui.footer.append(notice);
}

// Presence, typing, connection state ---------------------------------------------------

function showOnline(online) {
  const people = [...online].sort((a, b) =>
    a.username < b.username ? -1 : a.username > b.username ? 1 : 0,
  );
  ui.onlineList.replaceChildren(
    ...people.map((person) => {
      const item = element("li", person.id === me.id ? "is-self" : "");
      item.append(avatar(person, "avatar avatar-small"), person.username);
      item.dataset.testid = "online-user";
      item.dataset.userId = String(person.id);
      return item;
    }),
  );
  ui.onlineCount.textContent = String(people.length);
}

function showTyper(user) {
  clearTimeout(typers.get(user.id)?.timer);
  const timer = setTimeout(() => hideTyper(user.id), TYPING_SHOWN_MS);
  typers.set(user.id, { username: user.username, timer });
  renderTypers();
}

function hideTyper(userId) {
  const typer = typers.get(userId);
  if (!typer) return;
  clearTimeout(typer.timer);
  typers.delete(userId);
  renderTypers();
}

function renderTypers() {
  const names = [...typers.values()].map((typer) => typer.username).sort();
  let text = "";
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length === 3) text = `${names[0]}, ${names[1]} and ${names[2]} are typing…`;
  else if (names.length > 3) text = `${names[0]}, ${names[1]} and ${names.length - 2} others are typing…`;
  ui.typing.textContent = text;
  ui.typing.hidden = !text;
}

const STATE_TEXT = {
  connecting: "Connecting…",
  online: "Online",
  offline: "Offline: waiting for the network",
  banned: "Banned from this room",
  ended: "Your session has ended",
};

function showState(state, { seconds } = {}) {
  const changed = ui.state.dataset.state !== state;
  ui.state.dataset.state = state;
  if (state === "reconnecting") {
    // The state is a live region: announce "Reconnecting" once, not every tick of the countdown.
    if (changed || !ui.state.querySelector(".countdown")) {
      const countdown = element("span", "countdown");
      countdown.setAttribute("aria-hidden", "true");
      ui.state.replaceChildren("Reconnecting", countdown);
    }
    ui.state.querySelector(".countdown").textContent = ` in ${seconds} s…`;
  } else if (changed || ui.state.textContent !== STATE_TEXT[state]) {
    ui.state.textContent = STATE_TEXT[state];
  }
  ui.reconnect.hidden = !(state === "reconnecting" || state === "offline");
  if (state === "banned") showBannedNotice();
  if (state === "ended") {
    // The server ends sockets on logout or a password change: the page will send us to log in.
    location.reload();
  }
}

// Composer ---------------------------------------------------------------------------

function resizeComposer() {
  ui.composer.rows = rowsFor(ui.composer.value, COMPOSER_MAX_ROWS);
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

ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  submitComposer();
});

ui.composer.addEventListener("keydown", (event) => {
  if (isPlainEnter(event)) {
    event.preventDefault();
    submitComposer();
  }
});

ui.composer.addEventListener("input", () => {
  resizeComposer();
  const now = Date.now();
  if (ui.composer.value.trim() && now - lastTypingSent >= config.typingInterval) {
    if (connection.send({ type: "typing" })) lastTypingSent = now;
  }
});

// Message list: scrolling, older history, edit and delete ------------------------------

let scrollQueued = false;
ui.list.addEventListener("scroll", () => {
  if (scrollQueued) return;
  scrollQueued = true;
  requestAnimationFrame(() => {
    scrollQueued = false;
    if (view.isAtBottom()) ui.newMessages.hidden = true;
    maybeLoadOlder();
  });
});

// Keep the newest message in view while the list resizes (keyboard, composer growth).
let wasAtBottom = true;
ui.list.addEventListener("scroll", () => {
  wasAtBottom = view.isAtBottom();
});
new ResizeObserver(() => {
  if (wasAtBottom) view.scrollToBottom();
}).observe(ui.list);

ui.newMessages.addEventListener("click", () => {
  view.scrollToBottom();
  ui.newMessages.hidden = true;
  ui.composer.focus();
});

function messageIdOf(node) {
  return Number(node.closest("li.message")?.dataset.id);
}

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
  const target = event.target.closest("button[data-action]");
  if (!target) {
    if (!event.target.closest(".message-editor")) selectMessage(event.target.closest("li.message"));
    return;
  }
  const action = target.dataset.action;
  if (action === "load-older") {
    loadOlder();
  } else if (action === "edit") {
    view.startEdit(messageIdOf(target));
  } else if (action === "cancel-edit") {
    view.closeEdit(messageIdOf(target));
  } else if (action === "delete") {
    const id = messageIdOf(target);
    if (!window.confirm("Delete this message for everyone?")) return;
    if (!connection.send({ type: "delete", id })) {
      showError("You are offline: try again once reconnected.");
    }
  }
});

ui.list.addEventListener("submit", (event) => {
  const form = event.target.closest(".message-editor");
  if (!form) return;
  event.preventDefault();
  saveEdit(Number(form.dataset.id));
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
    saveEdit(id);
  }
});

ui.list.addEventListener("input", (event) => {
  const textarea = event.target.closest(".message-editor-input");
  if (textarea) textarea.rows = rowsFor(textarea.value);
});

function saveEdit(id) {
  const editor = view.editor(id);
  if (!editor || editor.saving) return;
  const body = editor.textarea.value.trim();
  const length = [...body].length;
  if (!body) {
    showError("A message cannot be empty; delete it instead.");
    return;
  }
  if (length > maxBody) {
    showError(`Your message is ${length} characters long; the limit is ${maxBody}.`);
    return;
  }
  if (body === currentBody(id)) {
    view.closeEdit(id);
    return;
  }
  if (!connection.send({ type: "edit", id, body })) {
    showError("You are offline: try again once reconnected.");
    return;
  }
  clearError();
  view.setEditSaving(id, true);
}

function currentBody(id) {
  return ui.list.querySelector(`li.message[data-id="${id}"] .message-body`)?.textContent;
}

// Phones fold the online list away; wider screens always show it.
const narrow = window.matchMedia("(max-width: 47.99rem)");
function fitOnlinePanel() {
  ui.onlinePanel.open = !narrow.matches;
}
narrow.addEventListener("change", fitOnlinePanel);

ui.reconnect.addEventListener("click", () => connection.reconnectNow());

// Start ---------------------------------------------------------------------------------

function start() {
  ui.list.setAttribute("aria-busy", "true");
  const rendered = view.adopt();
  // Messages stored before a reload but after our last page view are in the page already.
  resolveEchoes(rendered);
  for (const item of outbox.items) {
    view.addPending(item);
    view.setPendingStatus(item.clientId, "waiting for connection…");
  }
  refreshMarker();
  ui.list.removeAttribute("aria-busy");
  view.scrollToBottom();
  fitOnlinePanel();
  ui.composer.disabled = false;
  ui.send.disabled = false;
  resizeComposer();
  connection.start();
}

start();
