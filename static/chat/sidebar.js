// Your rooms (docs/protocol.md, "hello" rooms, "activity", "activity_deleted",
// "activity_edited", "read", "peer_presence"): their unread and mention counts kept exact from the frames, the
// sidebar that shows them (templates/chat/_sidebar.html), the tab title, read
// positions sent back to the server, and desktop notifications agreed across tabs.
// The count logic (roomsFrom ... titleWith, ReadReporter) is pure: jstests/sidebar.test.mjs.

/** Rooms by name from ROOM entries (hello.rooms, /api/rooms/). */
export function roomsFrom(entries) {
  const rooms = new Map();
  for (const entry of entries) {
    rooms.set(entry.name, {
      name: entry.name,
      title: entry.title ?? entry.name,
      kind: entry.kind ?? "public",
      unread: Number(entry.unread) || 0,
      mentions: Number(entry.mentions) || 0,
      lastSeq: Number(entry.last_seq) || 0,
      lastReadSeq: Number(entry.last_read_seq) || 0,
      level: entry.level ?? "all",
      // A direct room's other person: {id, username, online}.
      peer: entry.peer ? { ...entry.peer, online: Boolean(entry.peer.online) } : null,
      // Messages counted from activity past the last snapshot: seq -> {unread, mention}.
      counted: new Map(),
    });
  }
  return rooms;
}

function weigh(room, frame, meId) {
  const mention = Array.isArray(frame.mentions) && frame.mentions.includes(meId);
  return {
    unread: room.level === "all" || (room.level === "mentions" && mention),
    mention: room.level !== "nothing" && mention,
  };
}

/**
 * A new message in a room (an `activity` frame, or a `message` in the room on
 * screen, as {room, id, seq, user_id, mentions}). Returns whether it changed the
 * counts and whether it deserves a notification (a mention of you, or a direct message).
 */
export function applyActivity(rooms, frame, meId) {
  const room = rooms.get(frame.room);
  if (!room || frame.seq <= room.lastSeq) return { changed: false, notify: false };
  room.lastSeq = frame.seq;
  if (frame.user_id === meId) {
    // Sending moved your read position to your message, the room's newest.
    room.lastReadSeq = Math.max(room.lastReadSeq, frame.seq);
    room.unread = 0;
    room.mentions = 0;
    room.counted.clear();
    return { changed: true, notify: false };
  }
  if (frame.seq <= room.lastReadSeq) return { changed: false, notify: false };
  const weight = weigh(room, frame, meId);
  room.unread += weight.unread ? 1 : 0;
  room.mentions += weight.mention ? 1 : 0;
  room.counted.set(frame.seq, weight);
  return { changed: weight.unread || weight.mention, notify: deservesNotice(room, weight) };
}

function deservesNotice(room, weight) {
  return room.level !== "nothing" && (weight.mention || (room.kind === "direct" && weight.unread));
}

/**
 * Activity that came before its room was listed (a direct message someone just
 * opened with you), looked at again once /api/rooms/ lists the room: whether it
 * deserves a notification. Its counts are already in the fetched entry.
 */
export function noticeAfterListing(rooms, frame, meId) {
  const room = rooms.get(frame.room);
  if (!room || frame.user_id === meId || frame.seq <= room.lastReadSeq) return false;
  return deservesNotice(room, weigh(room, frame, meId));
}

/** A message deleted in a room (`activity_deleted`, or `message_deleted` with its seq). */
export function applyDeleted(rooms, frame, meId) {
  const room = rooms.get(frame.room);
  if (!room || frame.user_id === meId || frame.seq <= room.lastReadSeq) return false;
  if (frame.seq > room.lastSeq) return false; // never counted
  const weight = room.counted.get(frame.seq) ?? weigh(room, frame, meId);
  room.counted.delete(frame.seq);
  if (weight.unread) room.unread = Math.max(0, room.unread - 1);
  if (weight.mention) room.mentions = Math.max(0, room.mentions - 1);
  return weight.unread || weight.mention;
}

/**
 * An edit that changed whom a message mentions (`activity_edited`, or a `message_edited`
 * in the socket's own room with the mentions it had): a message counted (by others, above
 * your read position, at or below the room's last seq) moves the counts by the difference
 * between its old weight and its new one, following your level. Returns whether they moved.
 */
export function applyEdited(rooms, frame, meId) {
  const room = rooms.get(frame.room);
  if (!room || frame.user_id === meId) return false;
  if (frame.seq <= room.lastReadSeq || frame.seq > room.lastSeq) return false;
  const before =
    room.counted.get(frame.seq) ?? weigh(room, { ...frame, mentions: frame.previous_mentions }, meId);
  const after = weigh(room, frame, meId);
  room.counted.set(frame.seq, after);
  const unread = Number(after.unread) - Number(before.unread);
  const mentions = Number(after.mention) - Number(before.mention);
  room.unread = Math.max(0, room.unread + unread);
  room.mentions = Math.max(0, room.mentions + mentions);
  return unread !== 0 || mentions !== 0;
}

/**
 * A room's online list (a `presence` frame): the other person of a direct room who is in it
 * has a socket open, so is online. Their leaving it says nothing of their other sockets.
 */
export function applyPresence(rooms, online) {
  const ids = new Set((online ?? []).map((person) => person.id));
  let changed = false;
  for (const room of rooms.values()) {
    if (room.peer && !room.peer.online && ids.has(room.peer.id)) {
      room.peer.online = true;
      changed = true;
    }
  }
  return changed;
}

/**
 * Someone you share a direct room with came online or went offline anywhere (a
 * `peer_presence` frame {user_id, online}): the dot of every direct room with them follows.
 */
export function applyPeerPresence(rooms, frame) {
  const online = Boolean(frame.online);
  let changed = false;
  for (const room of rooms.values()) {
    if (room.peer && room.peer.id === frame.user_id && room.peer.online !== online) {
      room.peer.online = online;
      changed = true;
    }
  }
  return changed;
}

/** Your read position moved (a `read` frame): its counts hold up to its last_seq. */
export function applyRead(rooms, frame) {
  const room = rooms.get(frame.room);
  if (!room || frame.seq < room.lastReadSeq) return false;
  room.lastReadSeq = frame.seq;
  room.unread = Number(frame.unread) || 0;
  room.mentions = Number(frame.mentions) || 0;
  for (const [seq, weight] of room.counted) {
    if (seq <= frame.last_seq) {
      room.counted.delete(seq);
    } else {
      // Counted from activity after the server took its counts: still unread.
      room.unread += weight.unread ? 1 : 0;
      room.mentions += weight.mention ? 1 : 0;
    }
  }
  room.lastSeq = Math.max(room.lastSeq, Number(frame.last_seq) || 0);
  return true;
}

/**
 * A fresh list (/api/rooms/) over the rooms held: a room whose counts we have moved past
 * the list's snapshot (a higher last_seq) keeps them; rooms no longer listed go.
 */
export function mergeRooms(rooms, entries) {
  const fresh = roomsFrom(entries);
  for (const [name, room] of fresh) {
    const held = rooms.get(name);
    // Presence is the list's: it is newer than any the page held.
    if (held && held.lastSeq > room.lastSeq) fresh.set(name, { ...held, peer: room.peer });
  }
  return fresh;
}

function activityOf(message) {
  const { room, id, seq, mentions } = message;
  return { room, id, seq, user_id: message.user?.id, mentions };
}

/**
 * One server frame applied to a socket's counts: `counts` is {rooms, me, known}
 * (`known`: id -> activity of the messages of the socket's own room, whose
 * `message_deleted` carries only the id). Returns {changed, activity, notify}:
 * `activity` when a new message came (or {room} of one in a room not listed).
 */
export function applyFrame(counts, frame) {
  const { me } = counts;
  switch (frame.type) {
    case "hello":
      counts.rooms = roomsFrom(frame.rooms ?? []);
      for (const message of frame.messages ?? []) counts.known.set(message.id, activityOf(message));
      return { changed: true };
    case "history":
      for (const message of frame.messages ?? []) counts.known.set(message.id, activityOf(message));
      return { changed: false };
    case "message":
    case "activity": {
      const activity = frame.type === "message" ? activityOf(frame) : frame;
      if (frame.type === "message") counts.known.set(frame.id, activity);
      if (!counts.rooms.has(activity.room)) return { changed: false, unknownRoom: activity.room };
      return { ...applyActivity(counts.rooms, activity, me), activity };
    }
    case "message_deleted": {
      const known = counts.known.get(frame.id);
      counts.known.delete(frame.id);
      return { changed: Boolean(known) && applyDeleted(counts.rooms, known, me) };
    }
    case "activity_deleted":
      return { changed: applyDeleted(counts.rooms, frame, me) };
    case "activity_edited":
      return { changed: applyEdited(counts.rooms, frame, me) };
    case "message_edited": {
      // The socket's own room: what it mentioned before is the message we knew, and the
      // new mentions replace it, so a later `message_deleted` takes off the right weight.
      const message = frame.message ?? {};
      const known = counts.known.get(message.id);
      const activity = activityOf(message);
      if (known) activity.user_id ??= known.user_id;
      counts.known.set(message.id, activity);
      if (!known) return { changed: false };
      const edit = { ...activity, previous_mentions: known.mentions };
      return { changed: applyEdited(counts.rooms, edit, me) };
    }
    case "peer_presence":
      return { changed: applyPeerPresence(counts.rooms, frame) };
    case "read":
      return { changed: applyRead(counts.rooms, frame) };
    case "presence":
      return { changed: applyPresence(counts.rooms, frame.online) };
    default:
      return { changed: false };
  }
}

/** The unread messages of every room. */
export function totalUnread(rooms) {
  let total = 0;
  for (const room of rooms.values()) total += room.unread;
  return total;
}

/** The tab's title: "(3) #releases · Jabber" while hidden with unread messages. */
export function titleWith(base, total, hidden) {
  return hidden && total > 0 ? `(${total}) ${base}` : base;
}

/** Sends `read` {seq} for the highest seq offered, at most once per interval. */
export class ReadReporter {
  constructor(
    send,
    { interval = 1000, now = () => Date.now(), schedule = (run, wait) => setTimeout(run, wait) } = {},
  ) {
    this.send = send;
    this.interval = interval;
    this.now = now;
    this.schedule = schedule;
    this.sent = 0; // the highest seq the server has been told
    this.sentAt = -Infinity;
    this.waiting = 0; // a higher seq waiting for the interval to pass
    this.timer = null;
  }

  offer(seq) {
    if (seq <= this.sent) return;
    this.waiting = Math.max(this.waiting, seq);
    if (this.timer !== null) return;
    const wait = this.sentAt + this.interval - this.now();
    if (wait <= 0) {
      this.#flush();
    } else {
      this.timer = this.schedule(() => {
        this.timer = null;
        this.#flush();
      }, wait);
    }
  }

  #flush() {
    const seq = this.waiting;
    if (seq <= this.sent) return;
    if (this.send({ type: "read", seq })) {
      this.sent = seq;
      this.sentAt = this.now();
      this.waiting = 0;
    }
  }
}

// The page ------------------------------------------------------------------------

function entriesFromPage(root) {
  return [...root.querySelectorAll('[data-testid="rooms-nav-item"]')].map((item) => ({
    name: item.dataset.room,
    title: item.querySelector(".rooms-nav-name")?.textContent.slice(1),
    kind: item.dataset.kind,
    unread: item.dataset.unread,
    mentions: item.dataset.mentions,
    last_seq: item.dataset.lastSeq,
    last_read_seq: item.dataset.lastReadSeq,
    level: item.dataset.level,
    peer: item.dataset.peerId
      ? { id: Number(item.dataset.peerId), online: item.dataset.peerOnline === "true" }
      : undefined,
  }));
}

/**
 * The "new messages" line above the first message by someone else past your read
 * position (the room's list of message <li>s); returns it, or null when all is read.
 */
export function placeUnreadDivider(list, lastReadSeq, meId) {
  list.querySelector('[data-testid="unread-divider"]')?.remove();
  const first = [...list.querySelectorAll('[data-testid="message"][data-seq]')].find(
    (node) => Number(node.dataset.seq) > lastReadSeq && Number(node.dataset.userId) !== meId,
  );
  if (!first) return null;
  const divider = document.createElement("li");
  divider.className = "message-divider";
  divider.dataset.testid = "unread-divider";
  divider.textContent = "New messages";
  list.insertBefore(divider, first);
  return divider;
}

/** The sidebar of a chat page: the server's rendering, kept live. */
export class Sidebar {
  constructor(root, { me, currentRoom = null, list = null } = {}) {
    this.root = root;
    this.me = me;
    this.currentRoom = currentRoom;
    this.list = list; // the room's messages: the first hello marks where reading stopped
    this.divided = false;
    this.unlisted = []; // activity of rooms not listed yet, until the list is refreshed
    this.counts = { rooms: roomsFrom(root ? entriesFromPage(root) : []), me: me.id, known: new Map() };
    this.baseTitle = document.title;
    this.notifier = new Notifier(root?.querySelector('[data-testid="enable-notifications"]'), {
      currentRoom,
    });
    document.addEventListener("visibilitychange", () => this.renderTitle());
  }

  /** Hand a server frame over; returns nothing. */
  get rooms() {
    return this.counts.rooms;
  }

  set rooms(rooms) {
    this.counts.rooms = rooms;
  }

  /** Hand a server frame over. */
  handle(frame) {
    const outcome = applyFrame(this.counts, frame);
    if (outcome.unknownRoom) {
      // Kept (a few) to be notified of once the refreshed list says what the room is.
      if (frame.type === "activity" && this.unlisted.length < 20) this.unlisted.push(frame);
      this.refreshSoon();
    }
    if (outcome.notify) this.notifier.offer(this.rooms.get(outcome.activity.room), outcome.activity);
    if (frame.type === "hello" && this.list && !this.divided) {
      this.divided = true;
      const divider = placeUnreadDivider(this.list, frame.last_read_seq ?? Infinity, this.me.id);
      // Scrolled to only when the read position is on the page: a divider above the whole
      // page would scroll to the top, which loads older history instead.
      if (divider?.previousElementSibling?.matches('[data-testid="message"]')) {
        divider.scrollIntoView({ block: "center" });
      }
    }
    if (outcome.changed) this.render();
  }

  /** Take the counts of /api/rooms/ (the lobby, which has no socket; a room joined elsewhere). */
  replace(entries) {
    this.rooms = mergeRooms(this.rooms, entries);
    this.render();
  }

  /** Fetch the list again soon (a room we did not know of moved: joined in another tab). */
  refreshSoon() {
    if (this.refreshing) return;
    this.refreshing = setTimeout(async () => {
      try {
        const response = await fetch("/api/rooms/", { headers: { Accept: "application/json" } });
        if (response.ok) this.replace((await response.json()).rooms);
      } catch {
        // Offline: the next unknown room asks again.
      } finally {
        this.refreshing = null;
      }
      const listed = this.unlisted.filter((frame) => this.rooms.has(frame.room));
      // Still unlisted (a list fetched just before the room was made): kept for the next one.
      this.unlisted = this.unlisted.filter((frame) => !this.rooms.has(frame.room));
      for (const frame of listed) {
        if (noticeAfterListing(this.rooms, frame, this.me.id)) {
          this.notifier.offer(this.rooms.get(frame.room), frame);
        }
      }
    }, 300);
  }

  #items() {
    const list = this.root.querySelector('[data-testid="rooms-nav-list"]');
    const items = new Map();
    for (const item of list.querySelectorAll('[data-testid="rooms-nav-item"]')) {
      if (this.rooms.has(item.dataset.room)) items.set(item.dataset.room, item);
      else item.remove(); // left
    }
    for (const room of this.rooms.values()) {
      if (!items.has(room.name)) items.set(room.name, list.appendChild(newItem(room)));
    }
    list.querySelector(".rooms-nav-empty")?.toggleAttribute("hidden", items.size > 0);
    return items;
  }

  render() {
    if (this.root) {
      for (const [name, item] of this.#items()) {
        const room = this.rooms.get(name);
        item.classList.toggle("has-unread", room.unread > 0);
        item.classList.toggle("has-mentions", room.mentions > 0);
        item.dataset.unread = room.unread;
        item.dataset.mentions = room.mentions;
        const unread = item.querySelector('[data-testid="rooms-nav-unread"]');
        unread.textContent = room.unread;
        unread.hidden = room.unread === 0;
        const mentions = item.querySelector('[data-testid="rooms-nav-mentions"]');
        mentions.textContent = `@${room.mentions}`;
        mentions.hidden = room.mentions === 0;
        renderPeer(item, room);
      }
    }
    this.renderTitle();
  }

  renderTitle() {
    document.title = titleWith(this.baseTitle, totalUnread(this.rooms), document.hidden);
  }
}

/** The online dot of a direct room's other person. */
function renderPeer(item, room) {
  let dot = item.querySelector('[data-testid="rooms-nav-presence"]');
  if (!room.peer) {
    dot?.remove();
    return;
  }
  if (!dot) {
    dot = document.createElement("span");
    dot.className = "rooms-nav-presence";
    dot.dataset.testid = "rooms-nav-presence";
    dot.append(document.createElement("span"));
    dot.firstChild.className = "visually-hidden";
    item.querySelector("a").prepend(dot);
  }
  const online = room.peer.online;
  item.dataset.peerId = String(room.peer.id);
  item.dataset.peerOnline = String(online);
  dot.dataset.online = String(online);
  dot.classList.toggle("is-online", online);
  dot.firstChild.textContent = online ? "online" : "offline";
}

/** A sidebar entry like the server renders (templates/chat/_sidebar.html). */
function newItem(room) {
  const item = document.createElement("li");
  item.className = "rooms-nav-item";
  Object.assign(item.dataset, { testid: "rooms-nav-item", room: room.name, kind: room.kind });
  const link = document.createElement("a");
  link.href = `/chat/${encodeURIComponent(room.name)}/`;
  const name = document.createElement("span");
  name.className = "rooms-nav-name";
  name.textContent = `${room.kind === "direct" ? "@" : "#"}${room.title}`;
  const mentions = document.createElement("span");
  mentions.className = "rooms-nav-mentions";
  mentions.dataset.testid = "rooms-nav-mentions";
  mentions.title = "Mentions of you";
  const unread = document.createElement("span");
  unread.className = "rooms-nav-unread";
  unread.dataset.testid = "rooms-nav-unread";
  unread.title = "Unread messages";
  link.append(name);
  if (room.kind === "private") link.append(lockMark());
  link.append(mentions, unread);
  item.append(link);
  return item;
}

/** A private room's padlock, like templates/chat/_lock.html. */
function lockMark() {
  const mark = document.createElement("span");
  mark.className = "rooms-nav-lock";
  Object.assign(mark.dataset, { testid: "private-mark" });
  mark.setAttribute("role", "img");
  mark.setAttribute("aria-label", "private");
  mark.title = "Private room";
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  for (const [name, value] of Object.entries({
    "aria-hidden": "true", viewBox: "0 0 16 16", width: "12", height: "12",
  })) svg.setAttribute(name, value);
  const path = document.createElementNS(svgNS, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", LOCK_PATH);
  svg.append(path);
  mark.append(svg);
  return mark;
}

const LOCK_PATH =
  "M5 7V5a3 3 0 0 1 6 0v2h.5A1.5 1.5 0 0 1 13 8.5v5A1.5 1.5 0 0 1 11.5 15h-7A1.5 1.5 0 0 1 3 13.5v-5A1.5 1.5 0 0 1 4.5 7H5Zm1.5 0h3V5a1.5 1.5 0 0 0-3 0v2Z";

// Desktop notifications -------------------------------------------------------------

const CLAIM_WAIT_MS = 250;
const NOTIFIED_KEY = "jabber-notified";
const NOTIFIED_KEEP = 200;

/**
 * Whether this tab is the first to claim message `id` (then it is recorded as claimed).
 * The check and the record happen under one Web Lock shared by the browser's tabs,
 * so two tabs cannot both win; the record is kept in localStorage, which they share.
 */
async function claimFirst(id) {
  const decide = () => {
    let notified = [];
    try {
      notified = JSON.parse(localStorage.getItem(NOTIFIED_KEY) ?? "[]");
    } catch {
      notified = [];
    }
    if (notified.includes(id)) return false;
    notified.push(id);
    localStorage.setItem(NOTIFIED_KEY, JSON.stringify(notified.slice(-NOTIFIED_KEEP)));
    return true;
  };
  if (!navigator.locks) return decide();
  return navigator.locks.request(NOTIFIED_KEY, decide);
}

/**
 * Desktop notifications for mentions and direct messages: enabled from a button
 * (never asked on load), one per message per browser (the first tab to claim a
 * message shows it; see claimFirst), none when the tab in use shows that room
 * (it claims the message at once and shows nothing; other tabs wait a moment first).
 */
class Notifier {
  constructor(button, { currentRoom }) {
    this.button = button;
    this.currentRoom = currentRoom;
    if (!button || !("Notification" in window)) return;
    button.hidden = Notification.permission !== "default";
    button.addEventListener("click", async () => {
      await Notification.requestPermission();
      button.hidden = Notification.permission !== "default";
    });
  }

  offer(room, frame) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const inUse = !document.hidden && document.hasFocus();
    if (inUse && room.name === this.currentRoom) {
      claimFirst(frame.id);
      return;
    }
    const wait = inUse ? 0 : CLAIM_WAIT_MS + Math.random() * CLAIM_WAIT_MS;
    setTimeout(async () => {
      if (!(await claimFirst(frame.id))) return;
      const title =
        room.kind === "direct"
          ? `New direct message from @${room.peer?.username ?? room.title}`
          : `You were mentioned in #${room.name}`;
      const notification = new Notification(title, {
        tag: `jabber-message-${frame.id}`,
        body: room.title,
      });
      notification.onclick = () => {
        window.focus();
        location.href = `/chat/${encodeURIComponent(room.name)}/?around=${frame.id}`;
        notification.close();
      };
    }, wait);
  }
}

/** The lobby: counts refreshed from /api/rooms/ while the page is visible. */
export function pollRooms(sidebar, interval = 20000) {
  const refresh = async () => {
    if (document.hidden) return;
    try {
      const response = await fetch("/api/rooms/", { headers: { Accept: "application/json" } });
      if (response.ok) sidebar.replace((await response.json()).rooms);
    } catch {
      // Offline for a moment: the next round tries again.
    }
  };
  setInterval(refresh, interval);
  document.addEventListener("visibilitychange", refresh);
}
