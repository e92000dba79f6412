// Older messages on demand, and the repair of seq gaps: both are history
// requests, told apart by the request they answer.
import { answeredRequest, sendRequest } from "./requests.js";
import { resolveEchoes } from "./sending.js";
import { markerState, olderExist, requestSettled } from "./store.js";

const HISTORY_PAGE = 50;
const REPAIR_PAGE = 100;
const REPAIR_GRACE_MS = 500; // a missing seq may just be reordered; wait before fetching
const LOAD_OLDER_THRESHOLD_PX = 120;

/** Redraw the line above the oldest message from the store. */
export function refreshMarker(room) {
  room.view.setMarker(markerState(room.store.state));
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

/** A `history` reply: older messages above, or missed ones below. */
export function receiveHistory(room, frame) {
  const { store, view, tracker } = room;
  const [requestId, request] = answeredRequest(room, frame, ["before", "after"]) ?? [];
  const kind =
    request?.kind ??
    (frame.messages.length && frame.messages[0].id > tracker.id ? "after" : "before");
  resolveEchoes(room, frame.messages);
  if (kind === "before") {
    view.keepPosition(() => view.merge(frame.messages));
    store.update(olderExist, frame.has_more);
    store.update(requestSettled, requestId);
    refreshMarker(room);
    // A tall window may still show the top: keep filling it.
    requestAnimationFrame(() => maybeLoadOlder(room));
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
