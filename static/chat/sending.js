// The messages this tab writes: from the composer into the Outbox, onto the
// socket, and out again when the server echoes them or refuses them.
import { sendRequest } from "./requests.js";
import { resizeComposer } from "./room-input.js";
import { markerState, requestSettled } from "./store.js";

/** Drop the pending copies of our messages the server has stored; true if any. */
export function resolveEchoes(room, messages) {
  let resolved = false;
  for (const message of messages) {
    if (message.client_id && message.user.id === room.me.id && room.outbox.has(message.client_id)) {
      resolvePending(room, message.client_id);
      resolved = true;
    }
  }
  return resolved;
}

/** The server stored (or, on a resend, had deleted) the message sent as `clientId`. */
export function resolvePending(room, clientId) {
  const item = room.outbox.echoed(clientId);
  if (item?.requestId) room.store.update(requestSettled, item.requestId);
  room.view.removePending(clientId);
}

/** Send, in order, every outbox item not yet sent on this socket; once each. */
export function flushOutbox(room) {
  const { connection, outbox, timers } = room;
  clearTimeout(timers.flush);
  timers.flush = null;
  if (!connection.ready) return;
  const { send, waitMs } = outbox.due(connection.generation);
  for (const item of send) {
    const frame = { type: "message", body: item.body, client_id: item.clientId };
    if (item.attachments?.length) frame.attachments = item.attachments.map((file) => file.id);
    const requestId = sendRequest(room, frame, { kind: "message", clientId: item.clientId });
    if (!requestId) return;
    outbox.markSent(item.clientId, connection.generation, requestId);
    room.view.setPendingStatus(item.clientId, "sending…");
  }
  if (waitMs !== null) timers.flush = setTimeout(() => flushOutbox(room), waitMs);
}

/** Queue what the composer holds, if the server would take it, and send it. */
export function submitComposer(room) {
  const { ui, view, errorLine } = room;
  const maxBody = room.config.maxBody;
  const body = ui.composer.value.trim();
  if (room.uploads?.busy()) {
    errorLine.show("Wait for your files to finish uploading.");
    return;
  }
  const attachments = room.uploads?.ready() ?? [];
  if (!body && !attachments.length) {
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
  const item = room.outbox.add(body, Date.now(), attachments);
  room.uploads?.sent();
  view.addPending(item);
  if (!room.connection.ready) view.setPendingStatus(item.clientId, "waiting for connection…");
  view.setMarker(markerState(room.store.state)); // "No messages yet" no longer holds
  ui.composer.value = "";
  resizeComposer(ui.composer);
  view.scrollToBottom();
  ui.newMessages.hidden = true;
  flushOutbox(room);
}

/** The server refused the message sent as `clientId`: wait and resend, or give it back. */
export function sendRefused(room, clientId, code, retryAfter) {
  const { outbox, view, ui } = room;
  room.store.update(requestSettled, outbox.get(clientId).requestId);
  if (code === "rate_limited") {
    // Not stored, not lost: send it again when the server allows.
    outbox.hold(clientId, Date.now() + retryAfter * 1000);
    view.setPendingStatus(clientId, "waiting to send…");
    flushOutbox(room);
    return;
  }
  // Refused for good: give the text back to the writer.
  const item = outbox.failed(clientId);
  view.removePending(clientId);
  if (item.attachments?.length) room.uploads?.restore(item.attachments);
  if (!ui.composer.value.trim()) {
    ui.composer.value = item.body;
    resizeComposer(ui.composer);
  }
}
