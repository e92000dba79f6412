"""Rate limits of the chat: sending, opening sockets and direct conversations, relaying typing."""

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
