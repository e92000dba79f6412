// How long a dropped connection waits before its next attempt (pure; no timers here).

const MIN_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;

/** 1 s, 2 s, 4 s ... capped at 30 s, each stretched by up to half again at random. */
export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** attempt);
  return Math.round(Math.min(MAX_DELAY_MS, base * (1 + random() * 0.5)));
}
