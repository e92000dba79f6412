// Messages typed but not yet confirmed by the server. They survive a reload in
// sessionStorage (per tab, per room); resending one is safe because the server
// de-duplicates by client_id.

function randomHex(bytes) {
  // crypto.randomUUID needs a secure context; getRandomValues works on plain http too.
  const values = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(values, (value) => value.toString(16).padStart(2, "0")).join("");
}

export function newClientId() {
  return `c-${randomHex(12)}`;
}

function isItem(value) {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof value.clientId === "string" &&
    typeof value.body === "string" &&
    typeof value.queuedAt === "number"
  );
}

export class Outbox {
  constructor(storageKey) {
    this.storageKey = storageKey;
    this.items = this.#load();
  }

  #load() {
    try {
      const items = JSON.parse(sessionStorage.getItem(this.storageKey) ?? "[]");
      return Array.isArray(items) ? items.filter(isItem) : [];
    } catch {
      return [];
    }
  }

  #save() {
    try {
      if (this.items.length) {
        sessionStorage.setItem(this.storageKey, JSON.stringify(this.items));
      } else {
        sessionStorage.removeItem(this.storageKey);
      }
    } catch {
      // Storage full or disabled: the outbox still works until the page goes away.
    }
  }

  add(body) {
    const item = { clientId: newClientId(), body, queuedAt: Date.now() };
    this.items.push(item);
    this.#save();
    return item;
  }

  has(clientId) {
    return this.items.some((item) => item.clientId === clientId);
  }

  remove(clientId) {
    const item = this.items.find((candidate) => candidate.clientId === clientId);
    if (item) {
      this.items = this.items.filter((candidate) => candidate !== item);
      this.#save();
    }
    return item;
  }

  clear() {
    this.items = [];
    this.#save();
  }
}
