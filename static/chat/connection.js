// One WebSocket to a room that keeps itself alive: pings, notices a silent
// (half-open) socket, and reconnects with exponential backoff and jitter.
// The server closes a socket that sends nothing for 60 s (IDLE), so pings must
// not sleep in hidden tabs: each is scheduled from the previous pong (a network
// event, not a timer), which keeps Chromium's intensive throttling of chained
// timers (one wake-up a minute after 5 minutes hidden) off them.
// Close codes come from the server's table (json_script "close-codes"), never written here.
import { backoffDelay } from "./backoff.js";

const PONG_TIMEOUT_MS = 10000;

export class Connection {
  /**
   * url(): the address to open (called on every attempt, so it can carry ?after=).
   * closeCodes: the server's table ({SESSION_ENDED, FORBIDDEN, ...}).
   * onFrame(frame), onState(state, detail), onClose(code).
   * States: connecting, online (after hello), reconnecting {seconds}, offline, banned, ended.
   */
  constructor({ url, closeCodes, pingInterval, onFrame, onState, onClose }) {
    this.url = url;
    this.closeCodes = closeCodes;
    this.pingInterval = pingInterval;
    this.pings = 0;
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
      } else if (this.ready) {
        // Going hidden: start the silent stretch with a fresh ping.
        this.#ping();
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
      this.#schedulePing();
      this.#setState("online");
    } else if (frame.type === "pong") {
      this.#schedulePing();
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
    if (code === this.closeCodes.FORBIDDEN) {
      this.stop("banned");
    } else if (code === this.closeCodes.SESSION_ENDED) {
      this.stop("ended");
    } else if (code === this.closeCodes.IDLE) {
      // Closed for silence (a laptop asleep): come back at once and resume.
      this.attempt = 0;
      this.#scheduleReconnect();
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

  /** The next ping, one interval from now; called on hello and on each pong. */
  #schedulePing() {
    clearTimeout(this.timers.ping);
    this.timers.ping = setTimeout(() => this.#ping(), this.pingInterval);
  }

  /** Ping; a socket that stays silent after it is dead even if the browser has not noticed. */
  #ping() {
    // Any frame proves the socket alive; the request_id only follows the protocol's rule.
    this.pings += 1;
    if (!this.send({ type: "ping", request_id: `ping-${this.pings}` })) return;
    const heard = this.framesReceived;
    clearTimeout(this.timers.pong);
    this.timers.pong = setTimeout(() => {
      if (this.framesReceived === heard && this.socket) {
        const socket = this.socket;
        this.generation += 1; // ignore whatever the dead socket still reports
        // No close code of ours: the socket is dead, nobody is there to read one.
        socket.close();
        this.#closed(undefined);
      }
    }, PONG_TIMEOUT_MS);
  }

  #closeQuietly() {
    if (!this.socket) return;
    const socket = this.socket;
    this.generation += 1;
    this.socket = null;
    this.ready = false;
    socket.close();
  }

  #clearTimers() {
    clearTimeout(this.timers.reconnect);
    clearInterval(this.timers.countdown);
    clearTimeout(this.timers.ping);
    clearTimeout(this.timers.pong);
    this.timers = { reconnect: null, countdown: null, ping: null, pong: null };
  }

  #setState(state, detail = {}) {
    this.onState(state, detail);
  }
}
