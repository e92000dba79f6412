// One WebSocket to a room that keeps itself alive: pings, notices a silent
// (half-open) socket, and reconnects with exponential backoff and jitter.

export const CLOSE_BANNED = 4403;
export const CLOSE_SESSION_ENDED = 4401;
const CLOSE_STALE = 4000;
const PONG_TIMEOUT_MS = 10000;

const MIN_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;

/** 1 s, 2 s, 4 s ... capped at 30 s, each stretched by up to half again at random. */
export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** attempt);
  return Math.round(Math.min(MAX_DELAY_MS, base * (1 + random() * 0.5)));
}

export class Connection {
  /**
   * url(): the address to open (called on every attempt, so it can carry ?after=).
   * onFrame(frame), onState(state, detail), onClose(code).
   * States: connecting, online (after hello), reconnecting {seconds}, offline, banned, ended.
   */
  constructor({ url, pingInterval, onFrame, onState, onClose }) {
    this.url = url;
    this.pingInterval = pingInterval;
    this.onFrame = onFrame;
    this.onState = onState;
    this.onClose = onClose;
    this.socket = null;
    this.generation = 0;
    this.ready = false;
    this.attempt = 0;
    this.retryAfterMs = 0;
    this.stopped = false;
    this.timers = { reconnect: null, countdown: null, ping: null, pong: null };
    this.framesReceived = 0;

    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("offline", () => {
      if (!this.ready) this.#setState("offline");
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") {
        // Timers sleep in hidden tabs and laptops: check the socket right away.
        if (this.ready) this.#ping();
        else this.reconnectNow();
      }
    });
    window.addEventListener("pagehide", () => this.#closeQuietly());
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) this.reconnectNow();
    });
  }

  start() {
    this.#open();
  }

  /** Send a frame if the room is live; returns whether it went out. */
  send(frame) {
    if (!this.ready || this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Skip the remaining wait (network back, tab visible again, "retry now"). */
  reconnectNow() {
    if (this.stopped || this.socket) return;
    this.attempt = 0;
    this.#open();
  }

  /** Stop for good (banned, session ended). */
  stop(state) {
    this.stopped = true;
    this.#clearTimers();
    this.#closeQuietly();
    this.#setState(state);
  }

  #open() {
    this.#clearTimers();
    if (this.stopped) return;
    if (navigator.onLine === false) {
      this.#setState("offline");
      return;
    }
    this.#setState("connecting");
    const socket = new WebSocket(this.url());
    const generation = ++this.generation;
    this.socket = socket;
    this.ready = false;
    socket.addEventListener("message", (event) => {
      if (generation === this.generation) this.#receive(event.data);
    });
    socket.addEventListener("close", (event) => {
      if (generation === this.generation) this.#closed(event.code);
    });
  }

  #receive(data) {
    this.framesReceived += 1;
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (!frame || typeof frame.type !== "string") return;
    if (frame.type === "hello") {
      this.ready = true;
      this.attempt = 0;
      this.retryAfterMs = 0;
      this.#startPinging();
      this.#setState("online");
    } else if (frame.type === "error" && !this.ready && frame.retry_after) {
      // Refused for joining too often: wait at least as long as the server asks.
      this.retryAfterMs = Number(frame.retry_after) * 1000;
    }
    this.onFrame(frame);
  }

  #closed(code) {
    this.socket = null;
    this.ready = false;
    this.#clearTimers();
    this.onClose(code);
    if (this.stopped) return;
    if (code === CLOSE_BANNED) {
      this.stop("banned");
    } else if (code === CLOSE_SESSION_ENDED) {
      this.stop("ended");
    } else {
      this.#scheduleReconnect();
    }
  }

  #scheduleReconnect() {
    if (navigator.onLine === false) {
      this.#setState("offline");
      return;
    }
    const delay = Math.max(backoffDelay(this.attempt), this.retryAfterMs);
    this.attempt += 1;
    this.retryAfterMs = 0;
    const due = Date.now() + delay;
    const tick = () => {
      const seconds = Math.max(1, Math.ceil((due - Date.now()) / 1000));
      this.#setState("reconnecting", { seconds });
    };
    tick();
    this.timers.countdown = setInterval(tick, 1000);
    this.timers.reconnect = setTimeout(() => this.#open(), delay);
  }

  #startPinging() {
    this.timers.ping = setInterval(() => this.#ping(), this.pingInterval);
  }

  /** Ping; a socket that stays silent after it is dead even if the browser has not noticed. */
  #ping() {
    if (!this.send({ type: "ping" })) return;
    const heard = this.framesReceived;
    clearTimeout(this.timers.pong);
    this.timers.pong = setTimeout(() => {
      if (this.framesReceived === heard && this.socket) {
        const socket = this.socket;
        this.generation += 1; // ignore whatever the dead socket still reports
        socket.close(CLOSE_STALE, "no reply");
        this.#closed(CLOSE_STALE);
      }
    }, PONG_TIMEOUT_MS);
  }

  #closeQuietly() {
    if (!this.socket) return;
    const socket = this.socket;
    this.generation += 1;
    this.socket = null;
    this.ready = false;
    socket.close(1000, "leaving");
  }

  #clearTimers() {
    clearTimeout(this.timers.reconnect);
    clearInterval(this.timers.countdown);
    clearInterval(this.timers.ping);
    clearTimeout(this.timers.pong);
    this.timers = { reconnect: null, countdown: null, ping: null, pong: null };
  }

  #setState(state, detail = {}) {
    this.onState(state, detail);
  }
}
