"""Token buckets kept in Django's cache, so every server process shares them on Redis.

Taking a token is atomic. On Redis one Lua script reads, refills and spends a
bucket, so two processes taking at once cannot both spend its last token; in a
process's own memory (the embedded default) a lock does the same.
"""

import threading
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.commands.core import Script

from jabber import clock

# KEYS[1] the bucket; ARGV burst, rate (tokens/s), now (s), expiry (s).
# Returns "0" when a token was taken, else the seconds until the next one
# (as text: Redis would truncate a Lua number to an integer).
_TAKE = Script(
    None,
    b"""
local burst, rate, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or burst
local stamp = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
if tokens < 1 then
  return tostring((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens - 1),
           'stamp', string.format('%.17g', now))
redis.call('EXPIRE', KEYS[1], ARGV[4])
return '0'
""",
)

_local_lock = threading.Lock()


@dataclass(frozen=True)
class Bucket:
    """A bucket holding up to `burst` tokens, refilled at `rate` tokens per second."""

    name: str
    burst: int
    rate: float

    def take(self, key: str | int) -> float:
        """Take one token; return 0 on success or the seconds to wait for the next one."""
        cache = caches["default"]
        name = f"jabber:bucket:{self.name}:{key}"
        now = clock.now()
        # Kept until a full bucket would be back anyway.
        expiry = int(self.burst / self.rate) + 2
        if isinstance(cache, RedisCache):
            redis_key = cache.make_and_validate_key(name)
            # The cache API has no atomic read-modify-write; its client (and pool) does.
            client = cache._cache.get_client(redis_key, write=True)
            wait = _TAKE([redis_key], [self.burst, repr(self.rate), repr(now), expiry], client)
            return float(wait)
        with _local_lock:
            tokens, stamp = cache.get(name, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(0.0, now - stamp) * self.rate)
            if tokens < 1.0:
                return (1.0 - tokens) / self.rate
            cache.set(name, (tokens - 1.0, now), timeout=expiry)
            return 0.0

    def reset(self, key: str | int) -> None:
        caches["default"].delete(f"jabber:bucket:{self.name}:{key}")
