// Local-time formatting for timestamps the server sends in ISO 8601 (UTC).

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });
const shortDateTime = new Intl.DateTimeFormat(undefined, {
  month: "short", day: "numeric", hour: "numeric", minute: "2-digit",
});
const longDateTime = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit",
});
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", month: "long", day: "numeric" });
const dayYearFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "long", month: "long", day: "numeric", year: "numeric",
});

/** Parse an ISO timestamp; Django's "c" format has microseconds, which not every engine takes. */
export function parseTimestamp(value) {
  if (!value) return null;
  const date = new Date(String(value).replace(/(\.\d{3})\d+/, "$1"));
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A calendar-day key in local time, for grouping and day separators. */
export function dayKey(date) {
  return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}

function isSameDay(a, b) {
  return dayKey(a) === dayKey(b);
}

export function formatTime(date) {
  return timeFormat.format(date);
}

export function formatFull(date) {
  return fullFormat.format(date);
}

/** "Today", "Yesterday" or the weekday and date, for a day separator. */
export function formatDay(date, now = new Date()) {
  if (isSameDay(date, now)) return "Today";
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (isSameDay(date, yesterday)) return "Yesterday";
  return (date.getFullYear() === now.getFullYear() ? dayFormat : dayYearFormat).format(date);
}

/** A compact date and time: the time alone today, the date too on other days. */
export function formatDateTime(date, now = new Date()) {
  if (isSameDay(date, now)) return `today ${formatTime(date)}`;
  return (date.getFullYear() === now.getFullYear() ? shortDateTime : longDateTime).format(date);
}

/** Rewrite the server-rendered text of <time data-localize> elements in local time. */
export function localizeTimes(root = document) {
  for (const element of root.querySelectorAll("time[data-localize]")) {
    const date = parseTimestamp(element.getAttribute("datetime"));
    if (!date) continue;
    element.textContent = element.dataset.localize === "time" ? formatTime(date) : formatDateTime(date);
    element.title = formatFull(date);
  }
}
