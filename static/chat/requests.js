// Requests that expect an answer (docs/protocol.md): each frame carries a request_id and
// stays open in the store until the reply naming it arrives or the socket closes.
// `room` is the page's context built in room.js ({connection, store, ...}).
import { findRequest, nextRequestId, requestSent, requestSettled } from "./store.js";

/** Send `frame` tagged with a new request_id, recorded as `request`; the id, or false when offline. */
export function sendRequest(room, frame, request) {
  const requestId = nextRequestId(room.store.state);
  if (!room.connection.send({ ...frame, request_id: requestId })) return false;
  room.store.update(requestSent, request);
  return requestId;
}

/**
 * The open request `frame` answers, as [requestId, request]. A server that does
 * not echo request_id yet answers in order: then the oldest open one of `kinds`.
 */
export function answeredRequest(room, frame, kinds) {
  // The server echoes request_id on every reply; a frame without one answers nothing.
  const request = frame.request_id && room.store.state.requests[frame.request_id];
  return request && kinds.includes(request.kind) ? [frame.request_id, request] : undefined;
}

/** An edit or delete is answered by its broadcast, which carries no request_id. */
export function settleRequestsFor(room, messageId, kinds) {
  const matches = (request) => request.messageId === messageId && kinds.includes(request.kind);
  let open;
  while ((open = findRequest(room.store.state, matches))) room.store.update(requestSettled, open[0]);
}

/** The open request of one of `kinds` about message `messageId` (and `emoji`), as [requestId, request]. */
export function findRequestFor(room, messageId, kinds, emoji) {
  return findRequest(
    room.store.state,
    (request) =>
      request.messageId === messageId &&
      kinds.includes(request.kind) &&
      (emoji === undefined || request.emoji === emoji),
  );
}
