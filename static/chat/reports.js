// Reports on the room page (docs/protocol.md, "report" and "report_resolved"):
// moderators see each report live in a panel (excerpt, reporter, reason, a link to
// the message); a reporter sees a notice once their report is settled.
// The wording (reportEntry, outcomeText) is pure: jstests/reports.test.mjs.
import { excerpt } from "./replies.js";

const OUTCOMES = {
  deleted: "the message was deleted",
  muted: "its author was muted in that room",
  banned: "its author was banned from that room",
  dismissed: "the moderators dismissed it",
};

/** The address of message `id` in `room`: the room opened at the message. */
export function messageHref(room, id) {
  return `/chat/${encodeURIComponent(room)}/?around=${encodeURIComponent(id)}`;
}

/**
 * What the panel shows of a `report` frame, or null for one it cannot show:
 * {id, room, messageId, href, reporter, author, excerpt, reason}. Unknown fields are ignored.
 */
export function reportEntry(frame) {
  const message = frame?.message;
  if (!Number.isInteger(frame?.report) || typeof frame.room !== "string") return null;
  if (!message || !Number.isInteger(message.id)) return null;
  return {
    id: frame.report,
    room: frame.room,
    messageId: message.id,
    href: messageHref(frame.room, message.id),
    reporter: String(frame.reporter?.username ?? "someone"),
    author: String(message.user?.username ?? "someone"),
    excerpt: excerpt(message.body) || "(no text)",
    reason: excerpt(frame.reason, 500),
  };
}

/** The notice a reporter reads for a `report_resolved` frame. */
export function outcomeText(outcome) {
  const what = OUTCOMES[outcome] ?? "it was settled";
  return `Your report was handled: ${what}.`;
}

/** The reports panel and the reporter's notices of one room page. */
export class ReportsPanel {
  constructor({ panel, list, count, notices, status, currentRoom, messageInView }) {
    this.panel = panel;
    this.list = list;
    this.count = count;
    this.notices = notices;
    this.status = status;
    this.currentRoom = currentRoom;
    this.messageInView = messageInView;
    this.shown = new Set();
    list.addEventListener("click", (event) => {
      const hide = event.target.closest('[data-action="hide-report"]');
      if (!hide) return;
      const item = hide.closest("li");
      this.shown.delete(Number(item.dataset.report));
      item.remove();
      this.renderCount();
      if (!this.list.children.length) this.panel.hidden = true;
    });
    notices.addEventListener("click", (event) => {
      event.target.closest('[data-action="close-notice"]')?.closest("li")?.remove();
    });
  }

  /** A `report` frame: the newest first; the same report twice shows once. */
  showReport(frame) {
    const entry = reportEntry(frame);
    if (!entry || this.shown.has(entry.id)) return;
    this.shown.add(entry.id);
    this.list.prepend(reportItem(entry));
    this.panel.hidden = false;
    this.renderCount();
    this.status.textContent = `New report from ${entry.reporter} in #${entry.room}.`;
  }

  /** A `report_resolved` frame: a notice to the reporter, linking the message when it is here. */
  showOutcome(frame) {
    if (!Number.isInteger(frame?.id)) return;
    const item = document.createElement("li");
    item.className = "report-outcome";
    item.dataset.testid = "report-outcome";
    item.dataset.outcome = String(frame.outcome ?? "");
    const text = document.createElement("span");
    text.textContent = `${outcomeText(frame.outcome)} `;
    item.append(text);
    if (frame.outcome !== "deleted" && this.messageInView(frame.id)) {
      const link = document.createElement("a");
      link.href = messageHref(this.currentRoom, frame.id);
      link.textContent = "See the message";
      item.append(link);
    }
    item.append(closeButton("close-notice", "Dismiss this notice"));
    this.notices.append(item);
    this.notices.hidden = false;
    this.status.textContent = outcomeText(frame.outcome);
  }

  renderCount() {
    this.count.textContent = String(this.list.children.length);
  }
}

function closeButton(action, label) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button button-small button-quiet";
  button.dataset.action = action;
  button.setAttribute("aria-label", label);
  button.title = label;
  const mark = document.createElement("span");
  mark.setAttribute("aria-hidden", "true");
  mark.textContent = "✕";
  button.append(mark);
  return button;
}

function reportItem(entry) {
  const item = document.createElement("li");
  item.className = "report";
  item.dataset.testid = "report";
  item.dataset.report = String(entry.id);
  const heading = document.createElement("p");
  heading.className = "report-heading";
  const reporter = document.createElement("strong");
  reporter.dataset.testid = "report-reporter";
  reporter.textContent = entry.reporter;
  const author = document.createElement("strong");
  author.textContent = entry.author;
  heading.append(reporter, " reported a message by ", author, ` in #${entry.room}`);
  const quote = document.createElement("blockquote");
  quote.className = "report-excerpt";
  quote.dataset.testid = "report-excerpt";
  quote.textContent = entry.excerpt;
  const reason = document.createElement("p");
  reason.className = "report-reason";
  const reasonText = document.createElement("span");
  reasonText.dataset.testid = "report-reason";
  reasonText.textContent = entry.reason;
  reason.append("Reason: ", reasonText);
  const actions = document.createElement("p");
  actions.className = "report-actions";
  const link = document.createElement("a");
  link.href = entry.href;
  link.dataset.testid = "report-link";
  link.textContent = "Go to the message";
  actions.append(link, closeButton("hide-report", `Hide the report from ${entry.reporter}`));
  item.append(heading, quote, reason, actions);
  return item;
}
