// The live room (protocol: docs/protocol.md): wires the store, the outbox, the
// message view and the connection together and handles the server's frames.
// From the server's page: configuration (json_script "jabber-config"), the close
// codes (json_script "close-codes") and the markup of a message
// (<template id="message-template">).
//
// Stable hooks for end-to-end tests (data-testid):
//   messages          the message list (<ol>, inside a role="log" live region; also the scroller)
//   message           each message <li>; data-id, data-seq, data-user-id, and
//                     data-pending="true" + data-client-id while not yet echoed
//   message-author    its author;  message-body  its text (the server's html);
//   message-edited  "(edited)";  message-link  its permalink (the time, ?around=<id>)
//   message-reply     the quote above a reply (author + excerpt; a link to the original)
//   reactions         the row of reaction buttons;  reaction  each (aria-pressed: mine)
//   message-reply-action, message-react, message-copy-link   actions on every message
//   message-edit, message-delete   buttons on messages you may change
//   message-report    "Report" on other people's messages; it opens report-dialog
//   report-dialog, report-reason-input, report-reason-count, report-submit, report-cancel,
//   report-dialog-error, report-confirmation, report-close   the report dialog
//   copy-code         the copy button beside each code block
//   emoji-picker, emoji-search, emoji-option   the reaction picker
//   composer-reply, composer-reply-author, composer-reply-excerpt, composer-reply-cancel
//                     what the composer replies to, and its cancel button
//   load-newer        button below the newest message while newer ones exist
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
import {
  holdBack,
  jumpTo,
  jumpToLatest,
  loadOlder,
  maybeLoadNewer,
  maybeLoadOlder,
  receiveHistory,
  refreshMarker,
  scheduleRepair,
} from "./history.js";
import { MentionCompleter } from "./mentions.js";
import { MessageView, messageLink } from "./messages.js";
import { Outbox } from "./outbox.js";
import { bindViewer } from "./attachments.js";
import { EmojiPicker } from "./picker.js";
import { toggleFrame } from "./reactions.js";
import { ReportDialog } from "./report-dialog.js";
import { ReportsPanel } from "./reports.js";
import { fetchAdminPanel, roleChange } from "./roles.js";
import { excerpt, replyTarget } from "./replies.js";
import { answeredRequest, findRequestFor, sendRequest, settleRequestsFor } from "./requests.js";
import { bindInput, resizeComposer } from "./room-input.js";
import {
  ErrorLine,
  bannedNotice,
  copyText,
  flashButton,
  renderConnection,
  renderOnline,
  renderReplyBar,
} from "./room-view.js";
import { flushOutbox, resolveEchoes, resolvePending, sendRefused, submitComposer } from "./sending.js";
import { SequenceTracker } from "./sequence.js";
import { ReadReporter, Sidebar } from "./sidebar.js";
import { bindUploads } from "./uploads.js";
import {
  Store,
  banned,
  connectionChanged,
  connectionClosed,
  initialState,
  markerState,
  olderExist,
  replyCancelled,
  replyStarted,
  requestSettled,
  typerHidden,
  typerShown,
  typingSent,
  typingText,
} from "./store.js";

const TYPING_SHOWN_MS = 4000;

const config = JSON.parse(document.getElementById("jabber-config").textContent);
const closeCodes = JSON.parse(document.getElementById("close-codes").textContent);
const me = config.user;

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
  replyBar: document.querySelector('[data-testid="composer-reply"]'),
  replyCancel: document.querySelector('[data-testid="composer-reply-cancel"]'),
  timeline: document.querySelector(".timeline"),
  send: document.querySelector('[data-testid="send"]'),
  footer: document.querySelector(".room-footer"),
};

// A page opened at a message (?around=) may show a stretch of the past: newer messages exist.
const hasNewer = config.hasMoreAfter ?? Boolean(ui.list.querySelector(".history-marker-newer"));

// The page's context, handed to the modules that act on the room. Its state is
// the store's; the outbox, the tracker and the view own theirs.
const room = {
  config,
  me,
  ui,
  store: new Store(initialState({ hasMore: config.hasMore, hasNewer })),
  view: new MessageView(ui.list, {
    template: document.getElementById("message-template"),
    me,
    isModerator: Boolean(config.isModerator),
    roomName: config.room,
  }),
  outbox: new Outbox(`jabber-outbox:${config.room}:${me.id}`),
  // Showing the past, the socket starts from the latest page instead of ?after=.
  tracker: hasNewer ? new SequenceTracker() : new SequenceTracker(config.lastSeq, config.lastId),
  heldBack: [], // live messages that arrived while the list showed the past
  errorLine: new ErrorLine(document.querySelector('[data-testid="error"]')),
  // Timers are effects, not state: the store knows who types, these only end it.
  timers: { repair: null, flush: null, typing: new Map() },
  connection: null,
};
const { store, view, outbox, tracker, errorLine } = room;

// Reports: to moderators live, and their outcome to the reporter.
const reports = new ReportsPanel({
  panel: document.querySelector('[data-testid="reports-panel"]'),
  list: document.querySelector('[data-testid="reports-list"]'),
  count: document.querySelector('[data-testid="reports-count"]'),
  notices: document.querySelector('[data-testid="report-outcomes"]'),
  status: document.querySelector('[data-testid="reports-status"]'),
  currentRoom: config.room,
  messageInView: (id) => Boolean(ui.list.querySelector(`[data-testid="message"][data-id="${Number(id)}"]`)),
});

// Reporting someone's message: the dialog sends `report` and shows its answer.
const reportDialog = new ReportDialog(document.querySelector('[data-testid="report-dialog"]'), {
  send: (frame) => sendRequest(room, frame, { kind: "report", messageId: frame.id }),
  settle: (requestId) => store.update(requestSettled, requestId),
  refused: (text) => errorLine.show(text),
});

// `@` completion: the members come from the server once, the online list from the socket.
const mentions = new MentionCompleter({
  composer: ui.composer,
  form: ui.form,
  listbox: document.querySelector('[data-testid="mention-list"]'),
  status: document.querySelector('[data-testid="mention-status"]'),
  me,
  async loadMembers() {
    const response = await fetch(`/chat/${encodeURIComponent(config.room)}/members.json`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) return [];
    return (await response.json()).members ?? [];
  },
});

store.subscribe((state, previous) => {
  if (
    markerState(state) !== markerState(previous) ||
    state.hasNewer !== previous.hasNewer ||
    state.loadingNewer !== previous.loadingNewer
  ) {
    refreshMarker(room);
  }
  if (state.replyTo !== previous.replyTo) renderReplyBar(ui.replyBar, ui.composer, state.replyTo);
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
    const after = tracker.id > 0 && !store.state.hasNewer ? `?after=${tracker.id}` : "";
    return `${scheme}//${location.host}${config.wsPath}${after}`;
  },
  closeCodes,
  pingInterval: config.pingInterval,
  onFrame: handleFrame,
  onState: (state, { seconds } = {}) => store.update(connectionChanged, state, seconds ?? null),
  onClose() {
    store.update(connectionClosed);
    reportDialog.connectionLost();
    outbox.connectionLost();
    clearTimeout(room.timers.repair);
    room.timers.repair = null;
    refreshMarker(room);
    for (const item of outbox.items) view.setPendingStatus(item.clientId, "waiting for connection…");
  },
});
room.connection = connection;

const handlers = {
  hello(frame) {
    const hadMessages = view.size > 0;
    if (frame.gap) {
      // Missed more than the server replays: start over from a fresh page.
      location.reload();
      return;
    }
    renderOnline(ui.onlineList, ui.onlineCount, frame.online, me);
    view.learnNames(frame.online);
    mentions.setOnline(frame.online);
    if (store.state.hasNewer) {
      // The list shows the past: this is the live end to come back to, not to show yet.
      for (const message of frame.messages) holdBack(room, message);
      tracker.caughtUp(frame.messages, true);
      refreshMarker(room);
      flushOutbox(room);
      maybeLoadOlder(room);
      maybeLoadNewer(room);
      return;
    }
    const stick = view.isAtBottom();
    resolveEchoes(room, frame.messages);
    view.merge(frame.messages);
    tracker.caughtUp(frame.messages, true);
    if (!hadMessages) store.update(olderExist, frame.has_more);
    refreshMarker(room);
    if (stick) view.scrollToBottom();
    flushOutbox(room);
    maybeLoadOlder(room);
  },

  message(message) {
    if (store.state.hasNewer) {
      holdBack(room, message);
      hideTyper(message.user.id);
      if (tracker.see(message.seq, message.id)) scheduleRepair(room);
      return;
    }
    const stick = view.isAtBottom();
    const ownEcho = resolveEchoes(room, [message]);
    const added = view.merge([message]);
    if (added.length) refreshMarker(room); // "No messages yet" no longer holds
    hideTyper(message.user.id);
    if (tracker.see(message.seq, message.id)) scheduleRepair(room);
    if (stick || ownEcho) view.scrollToBottom();
    else if (added.length) ui.newMessages.hidden = false;
  },

  history(frame) {
    receiveHistory(room, frame);
  },

  pong(frame) {
    if (tracker.expect(frame.seq)) scheduleRepair(room);
  },

  presence(frame) {
    renderOnline(ui.onlineList, ui.onlineCount, frame.online, me);
    view.learnNames(frame.online);
    mentions.setOnline(frame.online);
  },

  reaction(frame) {
    view.applyReaction(frame);
    // The sender's own change (or a repeat that changed nothing) answers its request.
    const answered = frame.request_id
      ? [frame.request_id]
      : frame.user?.id === me.id
        ? findRequestFor(room, frame.id, ["react", "unreact"], frame.emoji)
        : undefined;
    if (answered) store.update(requestSettled, answered[0]);
  },

  typing(frame) {
    if (frame.user && frame.user.id !== me.id) showTyper(frame.user);
  },

  message_edited(frame) {
    const message = frame.message;
    if (!view.update(message) && store.state.hasNewer) {
      if (room.heldBack.some((held) => held.id === message.id)) holdBack(room, message);
    }
    const editor = view.editor(message.id);
    if (editor?.saving) view.closeEdit(message.id);
    settleRequestsFor(room, message.id, ["edit"]);
  },

  message_deleted(frame) {
    const stick = view.isAtBottom();
    view.remove(frame.id);
    room.heldBack = room.heldBack.filter((held) => held.id !== frame.id);
    if (store.state.replyTo?.id === frame.id) store.update(replyCancelled);
    if (frame.client_id) resolvePending(room, frame.client_id);
    settleRequestsFor(room, frame.id, ["edit", "delete"]);
    refreshMarker(room);
    if (stick) view.scrollToBottom();
  },

  report(frame) {
    reports.showReport(frame);
  },

  report_resolved(frame) {
    reports.showOutcome(frame);
  },

  reported(frame) {
    reportDialog.answer(frame);
  },

  role(frame) {
    // The Moderators group moderates every room whatever its role in this one: the frame's
    // `moderates` says so; a frame without it falls back on the page's word.
    const change = roleChange(frame, config.room, { siteModerator: config.isSiteModerator });
    if (change) showModeration(change.moderates);
  },

  error(frame) {
    handleError(frame);
  },
};

// Moderator controls follow the `role` frame: the delete buttons at once, and the
// "Manage room" panel as the server renders it for the new role (forms need its tokens).
let moderationShown = Boolean(config.isModerator);
let panelRequest = 0;
async function showModeration(moderates) {
  if (moderates === moderationShown) return;
  moderationShown = moderates;
  view.setModerator(moderates);
  const request = ++panelRequest;
  const current = document.querySelector('[data-testid="room-admin"]');
  if (!moderates) {
    current?.remove();
    return;
  }
  let panel = null;
  try {
    panel = await fetchAdminPanel(location.pathname);
  } catch {
    return; // offline: the next reload shows it
  }
  if (request !== panelRequest || !panel || !moderationShown) return;
  const target = document.querySelector('[data-testid="room-admin"]');
  if (target) target.replaceWith(document.adoptNode(panel));
  else document.querySelector(".room-sidebar").append(document.adoptNode(panel));
}

function handleFrame(frame) {
  const handler = handlers[frame.type];
  if (handler) handler(frame);
  sidebar.handle(frame);
  if (frame.type === "hello" || frame.type === "message") reportRead();
}

// Your rooms and read position (sidebar.js) ---------------------------------------------

const sidebar = new Sidebar(document.querySelector('[data-testid="rooms-nav"]'), {
  me,
  currentRoom: config.room,
  list: ui.list,
});
const reads = new ReadReporter((frame) => connection.send(frame));

function reportRead() {
  // Read means seen: the newest message on screen in the tab in use.
  if (!document.hidden && document.hasFocus() && view.isAtBottom()) reads.offer(tracker.seq);
}
for (const [target, event] of [[ui.list, "scroll"], [window, "focus"], [document, "visibilitychange"]]) {
  target.addEventListener(event, reportRead, { passive: true });
}

// Errors ----------------------------------------------------------------------------

const ERROR_TEXT = {
  bad_json: "The server could not read what was sent.",
  bad_request: "The server refused that request.",
  empty: "Type a message first.",
  too_long: `Messages can be at most ${config.maxBody} characters long.`,
  rate_limited: "You are sending too fast.",
  muted: "You are muted in this room: you can read, but not send.",
  room_locked: "This room is locked: it is read-only.",
  not_found: "That message no longer exists.",
  forbidden: "You are not allowed to do that.",
  banned: "You are banned from this room.",
  too_many: "That message has as many different reactions as it can take.",
};

// Where a refusal reads differently for one kind of request.
const REQUEST_ERROR_TEXT = {
  message: { not_found: "The message you replied to no longer exists." },
  react: { bad_request: "That is not an emoji the server accepts as a reaction." },
  unreact: { bad_request: "That is not an emoji the server accepts as a reaction." },
  around: { not_found: "That message is no longer available." },
};

function handleError(frame) {
  const { code } = frame;
  if (code === "banned") {
    store.update(banned, frame.detail);
    connection.stop("banned");
    return;
  }
  if (!connection.ready) return; // a refused join; the connection retries on its own
  if (reportDialog.answer(frame)) return; // shown in the dialog that sent the report
  const retryAfter = Number(frame.retry_after) || 0;
  // An error for a send names its client_id, even from a server that does not echo request_id.
  const byClientId = frame.client_id && !frame.request_id;
  const [requestId, request] =
    (byClientId
      ? undefined
      : answeredRequest(room, frame, [
          "before",
          "after",
          "newer",
          "around",
          "latest",
          "edit",
          "delete",
          "react",
          "unreact",
        ])) ?? [];
  const clientId = request?.kind === "message" ? request.clientId : frame.client_id;
  store.update(requestSettled, requestId);
  if (clientId && outbox.has(clientId)) {
    sendRefused(room, clientId, code, retryAfter);
  } else if (request?.kind === "edit") {
    view.setEditSaving(request.messageId, false);
  }
  const kind = request?.kind ?? (clientId ? "message" : undefined);
  const text =
    REQUEST_ERROR_TEXT[kind]?.[code] ?? ERROR_TEXT[code] ?? frame.detail ?? "Something went wrong.";
  if (code === "rate_limited" && retryAfter > 0) {
    errorLine.showCountdown(text, retryAfter);
  } else {
    errorLine.show(text);
  }
}

// Typing, connection state, the ban ------------------------------------------------------

function showTyper(user) {
  const timers = room.timers.typing;
  clearTimeout(timers.get(user.id));
  timers.set(
    user.id,
    setTimeout(() => hideTyper(user.id), TYPING_SHOWN_MS),
  );
  store.update(typerShown, user);
}

function hideTyper(userId) {
  clearTimeout(room.timers.typing.get(userId));
  room.timers.typing.delete(userId);
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

// What the reader does ------------------------------------------------------------------

function typed() {
  const now = Date.now();
  if (now - store.state.lastTypingSent < config.typingInterval) return;
  if (connection.send({ type: "typing" })) store.update(typingSent, now);
}

function remove(id) {
  if (!sendRequest(room, { type: "delete", id }, { kind: "delete", messageId: id })) {
    errorLine.show("You are offline: try again once reconnected.");
  }
}

function saveEdit(id) {
  const editor = view.editor(id);
  if (!editor || editor.saving) return;
  const body = editor.textarea.value.trim();
  const length = [...body].length;
  if (!body) {
    errorLine.show("A message cannot be empty; delete it instead.");
    return;
  }
  if (length > config.maxBody) {
    errorLine.show(`Your message is ${length} characters long; the limit is ${config.maxBody}.`);
    return;
  }
  if (body === view.entryBody(id)) {
    view.closeEdit(id);
    return;
  }
  if (!sendRequest(room, { type: "edit", id, body }, { kind: "edit", messageId: id })) {
    errorLine.show("You are offline: try again once reconnected.");
    return;
  }
  errorLine.clear();
  view.setEditSaving(id, true);
}

function reply(id) {
  const message = view.message(id);
  if (!message) return;
  store.update(replyStarted, replyTarget(message, view.plainText(id)));
  ui.composer.focus();
}

function react(id, emoji) {
  const message = view.message(id);
  if (!message) return;
  const frame = toggleFrame(message.reactions, id, emoji, me.id);
  if (!sendRequest(room, frame, { kind: frame.type, messageId: id, emoji })) {
    errorLine.show("You are offline: try again once reconnected.");
  }
}

function jump(id) {
  if (!jumpTo(room, id)) errorLine.show("You are offline: try again once reconnected.");
}

function jumpToLatestMessages() {
  if (!jumpToLatest(room)) location.assign(location.pathname);
}

async function copyLink(id, control) {
  const copied = await copyText(new URL(messageLink(config.room, id), location.href).href);
  if (copied) flashButton(control, "Copied");
  else errorLine.show("Could not copy the link; the message's time is a link to it.");
}

async function copyCode(control) {
  // The rendering ends a block with a newline; what was typed did not.
  const code = (control.closest(".code-block")?.querySelector("pre")?.textContent ?? "").replace(
    /\n$/,
    "",
  );
  if (await copyText(code)) flashButton(control, "Copied");
  else errorLine.show("Could not copy the code.");
}

// Start ---------------------------------------------------------------------------------

function start() {
  ui.list.setAttribute("aria-busy", "true");
  const { messages: rendered, highlighted } = view.adopt();
  // Messages stored before a reload but after our last page view are in the page already.
  resolveEchoes(room, rendered);
  for (const item of outbox.items) {
    view.addPending(item);
    view.setPendingStatus(item.clientId, "waiting for connection…");
  }
  refreshMarker(room);
  ui.list.removeAttribute("aria-busy");
  // Opened at a message (?around=): it stays highlighted, in the middle of the list.
  if (highlighted === null || !view.highlight(highlighted, { focus: false })) view.scrollToBottom();
  const picker = new EmojiPicker(ui.timeline, ui.list, { onPick: react });
  bindInput(ui, view, {
    submit() {
      // What is sent goes at the live end: show it. Offline, the jump waits for the reader.
      if (store.state.hasNewer && connection.ready) jumpToLatestMessages();
      submitComposer(room);
    },
    typed,
    loadOlder: () => loadOlder(room),
    maybeLoadOlder: () => maybeLoadOlder(room),
    maybeLoadNewer: (now) => maybeLoadNewer(room, now),
    followsLatest: () => !store.state.hasNewer,
    jumpToLatest: jumpToLatestMessages,
    remove,
    saveEdit,
    reply,
    cancelReply: () => store.update(replyCancelled),
    replying: () => store.state.replyTo !== null,
    openPicker: (id, node, opener) => picker.open(id, node, opener),
    react,
    jump,
    copyLink,
    copyCode,
    report: (id, control) => reportDialog.open(id, excerpt(view.plainText(id)), control),
    reconnect: () => connection.reconnectNow(),
  });
  room.uploads = bindUploads({
    form: ui.form,
    composer: ui.composer,
    dropZone: document.querySelector("main"),
    url: `/chat/${config.room}/upload/`,
    maxUpload: config.maxUpload,
    onError: (text) => errorLine.show(text),
  });
  bindViewer(ui.list);
  ui.composer.disabled = false;
  ui.send.disabled = false;
  resizeComposer(ui.composer);
  connection.start();
}

start();
