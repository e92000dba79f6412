"""Rate limits of the chat: sending, opening sockets and direct conversations, relaying typing,
frames per socket."""

from django.conf import settings
from django.core.cache import cache

from jabber import clock
from jabber.ratelimit import Bucket


def send_bucket() -> Bucket:
    return Bucket("send", settings.JABBER_RATE_BURST, settings.JABBER_RATE_PER_SECOND)


def join_bucket() -> Bucket:
    return Bucket("join", settings.JABBER_JOIN_BURST, settings.JABBER_JOIN_PER_SECOND)


def should_relay_typing(user_id: int, room_id: int) -> bool:
    """At most one typing relay per user per room per interval, across processes."""
    key = f"jabber:typing:{room_id}:{user_id}"
    now = clock.now()
    last = cache.get(key)
    if last is not None and now - last < settings.JABBER_TYPING_INTERVAL:
        return False
    cache.set(key, now, timeout=int(settings.JABBER_TYPING_INTERVAL) + 1)
    return True


def direct_bucket() -> Bucket:
    """New direct conversations per user: JABBER_DM_CREATE_RATE an hour, all at once if need be."""
    per_hour = settings.JABBER_DM_CREATE_RATE
    return Bucket("direct", per_hour, per_hour / 3600)


class FrameBudget:
    """One socket's budget of client frames: `burst` at once, then `rate` per second.

    Kept in the socket's own memory: it is spent on every frame, and no other
    process needs to see it.
    """

    def __init__(self, burst: int, rate: float) -> None:
        self.burst = float(burst)
        self.rate = rate
        self.tokens = float(burst)
        self.stamp = clock.now()

    def take(self) -> float:
        """Spend one token; 0 on success, else the seconds until the next one."""
        now = clock.now()
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1.0:
            return (1.0 - self.tokens) / self.rate
        self.tokens -= 1.0
        return 0.0


def frame_budget() -> FrameBudget:
    """A new socket's frame budget (JABBER_FRAME_BURST, JABBER_FRAME_PER_SECOND)."""
    return FrameBudget(settings.JABBER_FRAME_BURST, settings.JABBER_FRAME_PER_SECOND)
