// The live room (SPEC §3 protocol, §7 client). Configuration comes from the
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
import { MessageView, rowsFor } from "./messages.js";
import { Outbox } from "./outbox.js";
import { ErrorLine, bannedNotice, renderConnection, renderOnline } from "./room-view.js";
import { SequenceTracker } from "./sequence.js";
import {
  Store,
  banned,
  connectionChanged,
  connectionClosed,
  findRequest,
  initialState,
  markerState,
  nextRequestId,
  oldestRequest,
  olderExist,
  requestSent,
  requestSettled,
  typerHidden,
  typerShown,
  typingSent,
  typingText,
} from "./store.js";

const HISTORY_PAGE = 50;
const REPAIR_PAGE = 100;
const REPAIR_GRACE_MS = 500; // a missing seq may just be reordered; wait before fetching
const TYPING_SHOWN_MS = 4000;
const LOAD_OLDER_THRESHOLD_PX = 120;
const COMPOSER_MAX_ROWS = 8;

const config = JSON.parse(document.getElementById("jabber-config").textContent);
const closeCodes = JSON.parse(document.getElementById("close-codes").textContent);
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
  form: document.querySelector(".composer"),
  composer: document.querySelector('[data-testid="composer"]'),
  send: document.querySelector('[data-testid="send"]'),
  footer: document.querySelector(".room-footer"),
};

const store = new Store(initialState({ hasMore: config.hasMore }));
const view = new MessageView(ui.list, {
  template: document.getElementById("message-template"),
  me,
  isModerator: Boolean(config.isModerator),
  roomName: config.room,
});
const outbox = new Outbox(`jabber-outbox:${config.room}:${me.id}`);
const tracker = new SequenceTracker(config.lastSeq, config.lastId);
const errorLine = new ErrorLine(document.querySelector('[data-testid="error"]'));
// Timers are effects, not state: the store knows who types, these only end it.
const typingTimers = new Map(); // user id -> timeout
const timers = { repair: null, flush: null };

store.subscribe((state, previous) => {
  if (markerState(state) !== markerState(previous)) refreshMarker();
  if (state.typers !== previous.typers) {
    const text = typingText(state);
    ui.typing.textContent = text;
    ui.typing.hidden = !text;
  }
  if (state.connection !== previous.connection) showConnection(state.connection);
});

// Connection -------------------------------------------------------------------

const connection = new Connection({
  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const after = tracker.id > 0 ? `?after=${tracker.id}` : "";
    return `${scheme}//${location.host}${config.wsPath}${after}`;
  },
  closeCodes,
  pingInterval: config.pingInterval,
  onFrame: handleFrame,
  onState: (state, { seconds } = {}) => store.update(connectionChanged, state, seconds ?? null),
  onClose() {
    store.update(connectionClosed);
    outbox.connectionLost();
    clearTimeout(timers.repair);
    timers.repair = null;
    refreshMarker();
    for (const item of outbox.items) view.setPendingStatus(item.clientId, "waiting for connection…");
  },
});

/** Send a frame that expects an answer, tagged with a request_id; false when offline. */
function sendRequest(frame, request) {
  const requestId = nextRequestId(store.state);
  if (!connection.send({ ...frame, request_id: requestId })) return false;
  store.update(requestSent, request);
  return requestId;
}

/**
 * The open request `frame` answers, as [requestId, request]. A server that does
 * not echo request_id yet answers in order: then the oldest open one of `kinds`.
 */
function answeredRequest(frame, kinds) {
  if (!frame.request_id) return oldestRequest(store.state, kinds);
  const request = store.state.requests[frame.request_id];
  return request ? [frame.request_id, request] : undefined;
}

const handlers = {
  hello(frame) {
    const hadMessages = view.size > 0;
    if (frame.gap) {
      // Missed more than the server replays: start over from a fresh page.
      location.reload();
      return;
    }
    renderOnline(ui.onlineList, ui.onlineCount, frame.online, me);
    const stick = view.isAtBottom();
    resolveEchoes(frame.messages);
    view.merge(frame.messages);
    tracker.caughtUp(frame.messages, true);
    if (!hadMessages) store.update(olderExist, frame.has_more);
    refreshMarker();
    if (stick) view.scrollToBottom();
    flushOutbox();
    maybeLoadOlder();
  },

  message(frame) {
    receiveLive(frame);
  },

  history(frame) {
    const [requestId, request] = answeredRequest(frame, ["before", "after"]) ?? [];
    const kind =
      request?.kind ??
      (frame.messages.length && frame.messages[0].id > tracker.id ? "after" : "before");
    resolveEchoes(frame.messages);
    if (kind === "before") {
      view.keepPosition(() => view.merge(frame.messages));
      store.update(olderExist, frame.has_more);
      store.update(requestSettled, requestId);
      refreshMarker();
      // A tall window may still show the top: keep filling it.
      requestAnimationFrame(maybeLoadOlder);
      return;
    }
    const stick = view.isAtBottom();
    const added = view.merge(frame.messages);
    tracker.caughtUp(frame.messages, !frame.has_more);
    store.update(requestSettled, requestId);
    if (stick) view.scrollToBottom();
    else if (added.length) ui.newMessages.hidden = false;
    if (frame.has_more) requestRepair();
    else scheduleRepair();
  },

  pong(frame) {
    if (tracker.expect(frame.seq)) scheduleRepair();
  },

  presence(frame) {
    renderOnline(ui.onlineList, ui.onlineCount, frame.online, me);
  },

  typing(frame) {
    if (frame.user && frame.user.id !== me.id) showTyper(frame.user);
  },

  message_edited(frame) {
    const message = frame.message;
    view.update(message);
    const editor = view.editor(message.id);
    if (editor?.saving) view.closeEdit(message.id);
    settleRequestsFor(message.id, ["edit"]);
  },

  message_deleted(frame) {
    const stick = view.isAtBottom();
    view.remove(frame.id);
    if (frame.client_id) resolvePending(frame.client_id);
    settleRequestsFor(frame.id, ["edit", "delete"]);
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

/** An edit or delete is answered by its broadcast, which carries no request_id. */
function settleRequestsFor(messageId, kinds) {
  let open;
  while ((open = findRequest(store.state, (r) => r.messageId === messageId && kinds.includes(r.kind)))) {
    store.update(requestSettled, open[0]);
  }
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
  const item = outbox.echoed(clientId);
  if (item?.requestId) store.update(requestSettled, item.requestId);
  view.removePending(clientId);
}

/** Send, in order, every outbox item not yet sent on this socket; once each. */
function flushOutbox() {
  clearTimeout(timers.flush);
  timers.flush = null;
  if (!connection.ready) return;
  const { send, waitMs } = outbox.due(connection.generation);
  for (const item of send) {
    const frame = { type: "message", body: item.body, client_id: item.clientId };
    const requestId = sendRequest(frame, { kind: "message", clientId: item.clientId });
    if (!requestId) return;
    outbox.markSent(item.clientId, connection.generation, requestId);
    view.setPendingStatus(item.clientId, "sending…");
  }
  if (waitMs !== null) timers.flush = setTimeout(flushOutbox, waitMs);
}

function submitComposer() {
  const body = ui.composer.value.trim();
  if (!body) {
    errorLine.show("Type a message first.");
    return;
  }
  // The server counts code points, not UTF-16 units.
  const length = [...body].length;
  if (length > maxBody) {
    errorLine.show(`Your message is ${length} characters long; the limit is ${maxBody}.`);
    return;
  }
  errorLine.clear();
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

function refreshMarker() {
  view.setMarker(markerState(store.state));
}

function maybeLoadOlder() {
  const { hasMore, loadingOlder } = store.state;
  if (!hasMore || loadingOlder || !connection.ready) return;
  if (ui.list.scrollTop > LOAD_OLDER_THRESHOLD_PX) return;
  loadOlder();
}

function loadOlder() {
  const { hasMore, loadingOlder } = store.state;
  if (!hasMore || loadingOlder || view.oldestId() === undefined) return;
  sendRequest({ type: "history", before: view.oldestId(), limit: HISTORY_PAGE }, { kind: "before" });
}

function scheduleRepair() {
  if (!tracker.hasGap || store.state.repairing || timers.repair) return;
  timers.repair = setTimeout(() => {
    timers.repair = null;
    if (tracker.hasGap) requestRepair();
  }, REPAIR_GRACE_MS);
}

function requestRepair() {
  if (store.state.repairing) return;
  sendRequest({ type: "history", after: tracker.id, limit: REPAIR_PAGE }, { kind: "after" });
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

function handleError(frame) {
  const { code } = frame;
  if (code === "banned") {
    store.update(banned, frame.detail);
    connection.stop("banned");
    return;
  }
  if (!connection.ready) return; // a refused join; the connection retries on its own
  const retryAfter = Number(frame.retry_after) || 0;
  // Errors for a send name its client_id even from a server that does not echo request_id.
  const [requestId, request] =
    (frame.client_id && !frame.request_id
      ? undefined
      : answeredRequest(frame, ["before", "after", "edit", "delete"])) ?? [];
  const clientId = request?.kind === "message" ? request.clientId : frame.client_id;
  store.update(requestSettled, requestId);
  if (clientId && outbox.has(clientId)) {
    store.update(requestSettled, outbox.get(clientId).requestId);
    if (code === "rate_limited") {
      // Not stored, not lost: send it again when the server allows.
      outbox.hold(clientId, Date.now() + retryAfter * 1000);
      view.setPendingStatus(clientId, "waiting to send…");
      flushOutbox();
    } else {
      // Refused for good: give the text back to the writer.
      const item = outbox.failed(clientId);
      view.removePending(clientId);
      if (!ui.composer.value.trim()) {
        ui.composer.value = item.body;
        resizeComposer();
      }
    }
  } else if (request?.kind === "edit") {
    view.setEditSaving(request.messageId, false);
  }
  const text = ERROR_TEXT[code] ?? frame.detail ?? "Something went wrong.";
  if (code === "rate_limited" && retryAfter > 0) {
    errorLine.showCountdown(text, retryAfter);
  } else {
    errorLine.show(text);
  }
}

function showBannedNotice() {
  if (document.querySelector('[data-testid="banned-notice"]')) return;
  ui.form.hidden = true;
  ui.composer.disabled = true;
  ui.send.disabled = true;
  for (const item of outbox.items) view.removePending(item.clientId);
  outbox.clear();
  errorLine.clear();
  ui.footer.append(bannedNotice(store.state.bannedDetail));
}

// Typing, connection state ------------------------------------------------------------

function showTyper(user) {
  clearTimeout(typingTimers.get(user.id));
  typingTimers.set(
    user.id,
    setTimeout(() => hideTyper(user.id), TYPING_SHOWN_MS),
  );
  store.update(typerShown, user);
}

function hideTyper(userId) {
  clearTimeout(typingTimers.get(userId));
  typingTimers.delete(userId);
  store.update(typerHidden, userId);
}

function showConnection(connectionState) {
  renderConnection(ui.state, ui.reconnect, connectionState);
  if (connectionState.state === "banned") showBannedNotice();
  if (connectionState.state === "ended") {
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
  if (ui.composer.value.trim() && now - store.state.lastTypingSent >= config.typingInterval) {
    if (connection.send({ type: "typing" })) store.update(typingSent, now);
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
    if (!sendRequest({ type: "delete", id }, { kind: "delete", messageId: id })) {
      errorLine.show("You are offline: try again once reconnected.");
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
    errorLine.show("A message cannot be empty; delete it instead.");
    return;
  }
  if (length > maxBody) {
    errorLine.show(`Your message is ${length} characters long; the limit is ${maxBody}.`);
    return;
  }
  if (body === currentBody(id)) {
    view.closeEdit(id);
    return;
  }
  if (!sendRequest({ type: "edit", id, body }, { kind: "edit", messageId: id })) {
    errorLine.show("You are offline: try again once reconnected.");
    return;
  }
  errorLine.clear();
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
