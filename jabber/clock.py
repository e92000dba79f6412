"""The one source of time for rules (rate limits, slow mode, presence, bans).

Tests replace `now` with a fake clock instead of sleeping.
"""

import time
from datetime import UTC, datetime


def now() -> float:
    """Seconds since the epoch."""
    return time.time()


def utcnow() -> datetime:
    """The current time as an aware UTC datetime, from the same clock as `now`."""
    return datetime.fromtimestamp(now(), tz=UTC)
