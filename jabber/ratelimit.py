"""Token buckets kept in Django's cache, so every server process shares them on Redis."""

from dataclasses import dataclass

from django.core.cache import cache

from jabber import clock


@dataclass(frozen=True)
class Bucket:
    """A bucket holding up to `burst` tokens, refilled at `rate` tokens per second."""

    name: str
    burst: int
    rate: float

    def take(self, key: str | int) -> float:
        """Take one token; return 0 on success or the seconds to wait for the next one."""
        cache_key = f"jabber:bucket:{self.name}:{key}"
        now = clock.now()
        tokens, stamp = cache.get(cache_key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - stamp) * self.rate)
        if tokens < 1.0:
            return (1.0 - tokens) / self.rate
        # Keep the entry until a full bucket would be back anyway.
        cache.set(cache_key, (tokens - 1.0, now), timeout=int(self.burst / self.rate) + 2)
        return 0.0

    def reset(self, key: str | int) -> None:
        cache.delete(f"jabber:bucket:{self.name}:{key}")
