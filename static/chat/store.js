// The room's client state in one place. Every change is a pure function
// (state, ...args) -> state, applied with store.update(change, ...args); the
// UI subscribes and renders. Messages themselves live in the MessageView (the
// DOM is their model), the unsent ones in the Outbox, seq tracking in the
// SequenceTracker: this holds everything else.

export class Store {
  constructor(state) {
    this.state = state;
    this.listeners = new Set();
  }

  /** Call `listener(state, previous)` after every change; returns the unsubscribe. */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Apply one of the changes below; listeners hear of it only if something changed. */
  update(change, ...args) {
    const previous = this.state;
    const next = change(previous, ...args);
    if (next === previous) return;
    this.state = next;
    for (const listener of this.listeners) listener(next, previous);
  }
}

/**
 * The state when the page opens; `hasMore`: older messages exist than the page
 * shows; `hasNewer`: newer ones too (a page opened at a message, `?around=`).
 */
export function initialState({ hasMore = false, hasNewer = false } = {}) {
  return {
    hasMore: Boolean(hasMore),
    loadingOlder: false,
    // While newer messages exist than the list shows, live ones are not added to it
    // (that would leave a hole); scrolling down or "Jump to latest" fills it first.
    hasNewer: Boolean(hasNewer),
    loadingNewer: false,
    jumping: false,
    repairing: false,
    requestCount: 0,
    // request_id -> {kind: "before" | "after" | "newer" | "around" | "latest" | "message"
    //   | "edit" | "delete" | "react" | "unreact", clientId?, messageId?, emoji?}
    requests: {},
    replyTo: null, // the message the composer replies to: a MESSAGE reply_to
    typers: {}, // user id -> username
    lastTypingSent: 0,
    connection: { state: "offline", seconds: null },
    bannedDetail: "",
  };
}

// Selectors --------------------------------------------------------------------

/** The request_id the next request will carry (at most 64 characters, docs/protocol.md). */
export function nextRequestId(state) {
  return `r-${state.requestCount + 1}`;
}

/** The open request matching `test(request)`, as [requestId, request]. */
export function findRequest(state, test) {
  return Object.entries(state.requests).find(([, request]) => test(request));
}

/** What the line above the oldest message says: "loading", "more" or "start". */
export function markerState(state) {
  if (state.loadingOlder) return "loading";
  return state.hasMore ? "more" : "start";
}

/** "ann is typing…", for the names of everyone typing ("" when nobody is). */
export function typingText(state) {
  const names = Object.values(state.typers).sort();
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]} are typing…`;
  if (names.length > 3) return `${names[0]}, ${names[1]} and ${names.length - 2} others are typing…`;
  return "";
}

// Changes ------------------------------------------------------------------------

/** A request went out tagged nextRequestId(state); it stays open until answered. */
export function requestSent(state, request) {
  const requestId = nextRequestId(state);
  const next = { ...state, requestCount: state.requestCount + 1 };
  next.requests = { ...state.requests, [requestId]: request };
  if (request.kind === "before") next.loadingOlder = true;
  if (request.kind === "after") next.repairing = true;
  if (request.kind === "newer") next.loadingNewer = true;
  if (request.kind === "around" || request.kind === "latest") next.jumping = true;
  return next;
}

/** The answer to `requestId` arrived (or it failed): it is no longer open. */
export function requestSettled(state, requestId) {
  const request = state.requests[requestId];
  if (!request) return state;
  const requests = { ...state.requests };
  delete requests[requestId];
  const next = { ...state, requests };
  if (request.kind === "before") next.loadingOlder = false;
  if (request.kind === "after") next.repairing = false;
  if (request.kind === "newer") next.loadingNewer = false;
  if (request.kind === "around" || request.kind === "latest") next.jumping = false;
  return next;
}

/** Whether messages newer than the newest shown exist (the list is not at the live end). */
export function newerExist(state, hasNewer) {
  return state.hasNewer === Boolean(hasNewer) ? state : { ...state, hasNewer: Boolean(hasNewer) };
}

/** The composer now replies to `replyTo` ({id, user, excerpt, deleted}). */
export function replyStarted(state, replyTo) {
  return state.replyTo?.id === replyTo.id ? state : { ...state, replyTo };
}

/** The composer no longer replies (cancelled, sent, or the original was deleted). */
export function replyCancelled(state) {
  return state.replyTo === null ? state : { ...state, replyTo: null };
}

/** Whether messages older than the oldest shown exist (from hello or a page of history). */
export function olderExist(state, hasMore) {
  return state.hasMore === Boolean(hasMore) ? state : { ...state, hasMore: Boolean(hasMore) };
}

/** The socket closed: nothing sent on it will be answered. */
export function connectionClosed(state) {
  return {
    ...state,
    requests: {},
    loadingOlder: false,
    loadingNewer: false,
    jumping: false,
    repairing: false,
  };
}

export function connectionChanged(state, connectionState, seconds = null) {
  const { connection } = state;
  if (connection.state === connectionState && connection.seconds === seconds) return state;
  return { ...state, connection: { state: connectionState, seconds } };
}

export function typerShown(state, user) {
  if (state.typers[user.id] === user.username) return state;
  return { ...state, typers: { ...state.typers, [user.id]: user.username } };
}

export function typerHidden(state, userId) {
  if (!(userId in state.typers)) return state;
  const typers = { ...state.typers };
  delete typers[userId];
  return { ...state, typers };
}

export function typingSent(state, now) {
  return { ...state, lastTypingSent: now };
}

/** The server banned us; `detail` is its reason, shown in the notice. */
export function banned(state, detail) {
  return { ...state, bannedDetail: detail ?? "" };
}
