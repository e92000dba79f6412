// Older messages on demand, the repair of seq gaps, and jumps to a message
// (`around`, SPEC §11): all history requests, told apart by the request they answer.
//
// After a jump far back the list shows a stretch of the past ("newer messages
// exist", store.hasNewer): live messages are then kept aside instead of shown,
// since they would follow the stretch with a hole; scrolling down loads the
// newer ones (`after`), and "Jump to latest" replaces the stretch by the latest page.
import { answeredRequest, sendRequest } from "./requests.js";
import { resolveEchoes } from "./sending.js";
import { markerState, newerExist, olderExist, requestSettled } from "./store.js";

const HISTORY_PAGE = 50;
const AROUND_PAGE = 50;
const HELD_BACK_LIMIT = 500;
const REPAIR_PAGE = 100;
const REPAIR_GRACE_MS = 500; // a missing seq may just be reordered; wait before fetching
const LOAD_OLDER_THRESHOLD_PX = 120;

/** Redraw the lines above the oldest and below the newest message from the store. */
export function refreshMarker(room) {
  const { hasNewer, loadingNewer } = room.store.state;
  room.view.setMarker(markerState(room.store.state));
  room.view.setNewerMarker(loadingNewer ? "loading" : hasNewer ? "more" : "none");
  const jump = room.ui.newMessages;
  if (jump.dataset.mode === "latest" && !hasNewer) jump.hidden = true;
  jump.dataset.mode = hasNewer ? "latest" : "new";
  jump.firstChild.textContent = hasNewer ? "Jump to latest messages " : "New messages ";
  if (hasNewer) jump.hidden = false;
}

/** A live message while the list shows the past: kept to be shown once it catches up. */
export function holdBack(room, message) {
  const held = room.heldBack;
  const index = held.findIndex((candidate) => candidate.id === message.id);
  if (index >= 0) held[index] = message;
  else if (held.length < HELD_BACK_LIMIT) held.push(message);
}

/** The list reached the live end again: show what arrived meanwhile. */
function caughtUpWithLive(room) {
  const oldest = room.view.oldestId() ?? 0;
  const held = room.heldBack.filter((message) => message.id > oldest);
  room.heldBack = [];
  resolveEchoes(room, held);
  room.view.merge(held);
}

/** Load newer messages if the reader is near the bottom of a list that shows the past (or `now`). */
export function maybeLoadNewer(room, now = false) {
  const { hasNewer, loadingNewer, jumping } = room.store.state;
  if (!hasNewer || loadingNewer || jumping || !room.connection.ready) return;
  const { scrollHeight, scrollTop, clientHeight } = room.ui.list;
  if (!now && scrollHeight - scrollTop - clientHeight > LOAD_OLDER_THRESHOLD_PX) return;
  const newest = room.view.newestId();
  if (newest === undefined) return;
  sendRequest(room, { type: "history", after: newest, limit: HISTORY_PAGE }, { kind: "newer" });
}

/**
 * Show message `id` highlighted: at once when it is in the list, else after loading
 * the messages around it. False when offline and it is not in the list.
 */
export function jumpTo(room, id) {
  if (room.view.highlight(id)) return true;
  if (room.store.state.jumping) return true;
  const frame = { type: "history", around: id, limit: AROUND_PAGE };
  return Boolean(sendRequest(room, frame, { kind: "around", messageId: id }));
}

/** Replace a stretch of the past by the latest messages; false when offline. */
export function jumpToLatest(room) {
  if (room.store.state.jumping) return true;
  if (!room.tracker.id) return false;
  const frame = { type: "history", before: room.tracker.id + 1, limit: HISTORY_PAGE };
  return Boolean(sendRequest(room, frame, { kind: "latest" }));
}

/** Load older messages if the reader is near the top of the list. */
export function maybeLoadOlder(room) {
  const { hasMore, loadingOlder } = room.store.state;
  if (!hasMore || loadingOlder || !room.connection.ready) return;
  if (room.ui.list.scrollTop > LOAD_OLDER_THRESHOLD_PX) return;
  loadOlder(room);
}

export function loadOlder(room) {
  const { hasMore, loadingOlder } = room.store.state;
  const oldest = room.view.oldestId();
  if (!hasMore || loadingOlder || oldest === undefined) return;
  sendRequest(room, { type: "history", before: oldest, limit: HISTORY_PAGE }, { kind: "before" });
}

/** Fetch what a seq gap misses, after a grace period in which it may close by itself. */
export function scheduleRepair(room) {
  const { tracker, timers } = room;
  if (!tracker.hasGap || room.store.state.repairing || timers.repair) return;
  timers.repair = setTimeout(() => {
    timers.repair = null;
    if (tracker.hasGap) requestRepair(room);
  }, REPAIR_GRACE_MS);
}

export function requestRepair(room) {
  if (room.store.state.repairing) return;
  const frame = { type: "history", after: room.tracker.id, limit: REPAIR_PAGE };
  sendRequest(room, frame, { kind: "after" });
}

/** A `history` reply: older messages above, missed or newer ones below, or a jump. */
export function receiveHistory(room, frame) {
  const { store, view, tracker } = room;
  const kinds = ["before", "after", "newer", "around", "latest"];
  const [requestId, request] = answeredRequest(room, frame, kinds) ?? [];
  const kind =
    request?.kind ??
    (frame.messages.length && frame.messages[0].id > tracker.id ? "after" : "before");
  resolveEchoes(room, frame.messages);
  if (kind === "newer" || kind === "around" || kind === "latest") {
    store.update(requestSettled, requestId);
    if (kind === "newer") receiveNewer(room, frame);
    else if (kind === "around") receiveAround(room, frame, request.messageId);
    else receiveLatest(room, frame);
    refreshMarker(room);
    return;
  }
  if (kind === "before") {
    view.keepPosition(() => view.merge(frame.messages));
    store.update(olderExist, frame.has_more);
    store.update(requestSettled, requestId);
    refreshMarker(room);
    // A tall window may still show the top: keep filling it.
    requestAnimationFrame(() => maybeLoadOlder(room));
    return;
  }
  if (store.state.hasNewer) {
    // A repair while the list shows the past: keep the missed messages aside with the live ones.
    for (const message of frame.messages) holdBack(room, message);
    tracker.caughtUp(frame.messages, !frame.has_more);
    store.update(requestSettled, requestId);
    if (frame.has_more) requestRepair(room);
    else scheduleRepair(room);
    return;
  }
  const stick = view.isAtBottom();
  const added = view.merge(frame.messages);
  tracker.caughtUp(frame.messages, !frame.has_more);
  store.update(requestSettled, requestId);
  if (stick) view.scrollToBottom();
  else if (added.length) room.ui.newMessages.hidden = false;
  if (frame.has_more) requestRepair(room);
  else scheduleRepair(room);
}

function receiveNewer(room, frame) {
  room.view.merge(frame.messages);
  room.store.update(newerExist, frame.has_more);
  if (!frame.has_more) caughtUpWithLive(room);
  // A tall window may still show the bottom: keep filling it.
  requestAnimationFrame(() => maybeLoadNewer(room));
}

function receiveLatest(room, frame) {
  const { view, store } = room;
  view.reset(frame.messages);
  store.update(olderExist, frame.has_more);
  store.update(newerExist, false);
  caughtUpWithLive(room);
  view.scrollToBottom();
  room.ui.newMessages.hidden = true;
  history.replaceState(history.state, "", location.pathname);
}

/**
 * Where a page of messages around a message goes, given the ids shown (`oldest`..`newest`,
 * none when undefined) and whether newer ones exist: `merge` when the page meets what is
 * shown (the list stays one unbroken run), else `reset` (shown instead). `hasMore` and
 * `hasNewer` are what the list's ends say afterwards.
 */
export function aroundPlacement({ oldest, newest, hasMore, hasNewer }, frame) {
  const messages = frame.messages;
  const first = messages[0].id;
  const last = messages[messages.length - 1].id;
  const before = frame.has_more_before ?? frame.has_more;
  const after = Boolean(frame.has_more_after);
  if (oldest !== undefined && first <= newest && last >= oldest) {
    return {
      mode: "merge",
      hasMore: first < oldest ? before : hasMore,
      hasNewer: last > newest && hasNewer ? after : hasNewer,
    };
  }
  return { mode: "reset", hasMore: before, hasNewer: after };
}

/** Messages around `target`: added to the list when they meet it, else shown instead. */
function receiveAround(room, frame, target) {
  const { view, store } = room;
  const messages = frame.messages;
  if (!messages.some((message) => message.id === target)) {
    room.errorLine.show("That message is no longer available.");
    return;
  }
  const { hasMore, hasNewer } = store.state;
  const shown = { oldest: view.oldestId(), newest: view.newestId(), hasMore, hasNewer };
  const placement = aroundPlacement(shown, frame);
  if (placement.mode === "merge") view.keepPosition(() => view.merge(messages));
  else view.reset(messages);
  store.update(olderExist, placement.hasMore);
  store.update(newerExist, placement.hasNewer);
  if (placement.mode === "reset" && !placement.hasNewer) caughtUpWithLive(room);
  view.highlight(target);
}
