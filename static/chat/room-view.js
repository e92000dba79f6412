// The parts of the room page around the message list: the online list, the
// connection state line, the error line and the banned notice. Each takes the
// state to show and renders it; none keeps state of the room.
import { avatar, element } from "./messages.js";
import { quoteParts } from "./replies.js";

const ERROR_SHOWN_MS = 8000;
const FLASH_MS = 2000;

const STATE_TEXT = {
  connecting: "Connecting…",
  online: "Online",
  offline: "Offline: waiting for the network",
  banned: "Banned from this room",
  ended: "Your session has ended",
};

/** Show who is online, sorted by username; `me` is marked as such. */
export function renderOnline(list, count, online, me) {
  const people = [...online].sort((a, b) =>
    a.username < b.username ? -1 : a.username > b.username ? 1 : 0,
  );
  list.replaceChildren(
    ...people.map((person) => {
      const item = element("li", person.id === me.id ? "is-self" : "");
      item.append(avatar(person, "avatar avatar-small"), person.username);
      item.dataset.testid = "online-user";
      item.dataset.userId = String(person.id);
      return item;
    }),
  );
  count.textContent = String(people.length);
}

/** The connection state line and its "Retry now" button. */
export function renderConnection(line, reconnect, { state, seconds }) {
  const changed = line.dataset.state !== state;
  line.dataset.state = state;
  if (state === "reconnecting") {
    // The state is a live region: announce "Reconnecting" once, not every tick of the countdown.
    if (changed || !line.querySelector(".countdown")) {
      const countdown = element("span", "countdown");
      countdown.setAttribute("aria-hidden", "true");
      line.replaceChildren("Reconnecting", countdown);
    }
    line.querySelector(".countdown").textContent = ` in ${seconds} s…`;
  } else if (changed || line.textContent !== STATE_TEXT[state]) {
    line.textContent = STATE_TEXT[state];
  }
  reconnect.hidden = !(state === "reconnecting" || state === "offline");
}

/** The notice that replaces the composer once the server bans us; `detail` is its reason. */
export function bannedNotice(detail) {
  const notice = element("div", "banned-notice");
  notice.dataset.testid = "banned-notice";
  notice.setAttribute("role", "alert");
  const heading = element("h2", "", "You are banned from this room");
  const back = element("a", "", "Back to the rooms");
  back.href = "/chat/";
  const paragraphs = [];
  if (detail) paragraphs.push(element("p", "", detail));
  const backLine = element("p");
  backLine.append(back);
  notice.append(heading, ...paragraphs, backLine);
  return notice;
}

/** The line above the composer naming the message it replies to (hidden when none). */
export function renderReplyBar(bar, composer, replyTo) {
  bar.hidden = !replyTo;
  const hint = "composer-hint";
  if (!replyTo) {
    composer.setAttribute("aria-describedby", hint);
    return;
  }
  const parts = quoteParts(replyTo);
  bar.querySelector(".composer-reply-author").textContent = parts.author;
  bar.querySelector(".composer-reply-excerpt").textContent = parts.text;
  composer.setAttribute("aria-describedby", `composer-reply-text ${hint}`);
}

/** Put `text` on the clipboard; whether it worked. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No Clipboard API (plain http off localhost) or no permission: the old way.
    const area = element("textarea", "visually-hidden");
    area.value = text;
    area.readOnly = true;
    document.body.append(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
    area.remove();
    return copied;
  }
}

/** Show `text` on `control` for a moment ("Copied"), then its own label again. */
export function flashButton(control, text) {
  if (control.dataset.flashing) return;
  const label = control.textContent;
  const name = control.getAttribute("aria-label");
  control.dataset.flashing = "true";
  control.textContent = text;
  if (name !== null) control.setAttribute("aria-label", text);
  setTimeout(() => {
    control.textContent = label;
    if (name !== null) control.setAttribute("aria-label", name);
    delete control.dataset.flashing;
  }, FLASH_MS);
}

/** The error line under the message list: a text that goes away on its own. */
export class ErrorLine {
  constructor(node) {
    this.node = node;
    this.timer = null;
    this.countdown = null;
  }

  show(text) {
    this.clear();
    this.node.textContent = text;
    this.node.hidden = false;
    this.timer = setTimeout(() => this.clear(), ERROR_SHOWN_MS);
  }

  /** Show `text` with the seconds left until `seconds` from now, then go away. */
  showCountdown(text, seconds) {
    this.clear();
    const due = Date.now() + seconds * 1000;
    const tick = () => {
      const left = Math.ceil((due - Date.now()) / 1000);
      if (left <= 0) {
        this.clear();
        return;
      }
      this.node.textContent = `${text} Try again in ${left} s.`;
    };
    this.node.hidden = false;
    tick();
    this.countdown = setInterval(tick, 1000);
  }

  clear() {
    clearTimeout(this.timer);
    clearInterval(this.countdown);
    this.timer = this.countdown = null;
    this.node.textContent = "";
    this.node.hidden = true;
  }
}
