// Messages typed but not yet confirmed by the server, and the state of sending
// each one. The text survives a reload in sessionStorage (per tab, per room);
// resending is safe because the server de-duplicates by client_id.
//
// An item is "pending" (to send), "sent" (on the socket of one connection
// generation, awaiting its echo) or "held" (rate limited until a time). It
// leaves the outbox when echoed (stored) or failed (refused for good). A sent
// item goes back to pending when its socket closes, so it is resent once,
// with the same client_id, on the next connection.

function randomHex(bytes) {
  // crypto.randomUUID needs a secure context; getRandomValues works on plain http too.
  const values = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(values, (value) => value.toString(16).padStart(2, "0")).join("");
}

export function newClientId() {
  return `c-${randomHex(12)}`;
}

function isStored(value) {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof value.clientId === "string" &&
    typeof value.body === "string" &&
    typeof value.queuedAt === "number" &&
    (value.attachments === undefined || Array.isArray(value.attachments))
  );
}

// `attachments`: the ATTACHMENT objects of the files the message carries (uploads.js).
function pending({ clientId, body, queuedAt, attachments = [] }) {
  return {
    clientId, body, queuedAt, attachments, state: "pending", generation: null, requestId: null, heldUntil: 0,
  };
}

export class Outbox {
  /** `storage`: a Web Storage (sessionStorage in the page; a stand-in in tests). */
  constructor(storageKey, storage = globalThis.sessionStorage) {
    this.storageKey = storageKey;
    this.storage = storage;
    this.items = this.#load();
  }

  #load() {
    try {
      const items = JSON.parse(this.storage?.getItem(this.storageKey) ?? "[]");
      return Array.isArray(items) ? items.filter(isStored).map(pending) : [];
    } catch {
      return [];
    }
  }

  #save() {
    try {
      if (this.items.length) {
        const stored = this.items.map(({ clientId, body, queuedAt, attachments }) => ({
          clientId, body, queuedAt, attachments,
        }));
        this.storage.setItem(this.storageKey, JSON.stringify(stored));
      } else {
        this.storage.removeItem(this.storageKey);
      }
    } catch {
      // Storage full or disabled: the outbox still works until the page goes away.
    }
  }

  /** Queue a new message (with the files it carries); returns its item. */
  add(body, now = Date.now(), attachments = []) {
    const item = pending({ clientId: newClientId(), body, queuedAt: now, attachments });
    this.items.push(item);
    this.#save();
    return item;
  }

  has(clientId) {
    return this.items.some((item) => item.clientId === clientId);
  }

  get(clientId) {
    return this.items.find((item) => item.clientId === clientId);
  }

  /**
   * What to send now on connection `generation`, in order: `send` lists the items
   * due; `waitMs` is set when a held item blocks the rest (later items keep their
   * place behind it). An item sent on an older socket counts as pending.
   */
  due(generation, now = Date.now()) {
    const send = [];
    for (const item of this.items) {
      if (item.state === "sent" && item.generation === generation) continue;
      if (item.state === "held" && item.heldUntil > now) return { send, waitMs: item.heldUntil - now };
      send.push(item);
    }
    return { send, waitMs: null };
  }

  /** The item went out on the socket of connection `generation` in a frame tagged `requestId`. */
  markSent(clientId, generation, requestId) {
    const item = this.get(clientId);
    if (!item) return;
    item.state = "sent";
    item.generation = generation;
    item.requestId = requestId;
    item.heldUntil = 0;
  }

  /** The server asked us to wait: send it again, unchanged, at `until`. */
  hold(clientId, until) {
    const item = this.get(clientId);
    if (!item) return;
    item.state = "held";
    item.heldUntil = until;
    item.requestId = null;
  }

  /** The socket closed: whatever was in flight on it goes out again on the next one. */
  connectionLost() {
    for (const item of this.items) {
      if (item.state === "sent") {
        item.state = "pending";
        item.requestId = null;
      }
    }
  }

  /** The server stored it (its echo came back); returns the item, if it was here. */
  echoed(clientId) {
    return this.#remove(clientId);
  }

  /** Refused for good; returns the item, so its text can go back to the writer. */
  failed(clientId) {
    return this.#remove(clientId);
  }

  clear() {
    this.items = [];
    this.#save();
  }

  #remove(clientId) {
    const item = this.get(clientId);
    if (item) {
      this.items = this.items.filter((candidate) => candidate !== item);
      this.#save();
    }
    return item;
  }
}
