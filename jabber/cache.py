"""One Redis connection pool per process for Django's Redis cache.

Django makes a cache object per thread and per async context, and each one
builds its own connection pool (ticket #35651), so under ASGI nearly every
cache call opened a new connection: a TCP handshake, and redis-py reading its
own version from the package metadata, per rate-limit check. Pools are shared
here, one per URL and options.
"""

import threading

from redis import ConnectionPool


class SharedConnectionPool(ConnectionPool):
    _pools: dict[tuple, ConnectionPool] = {}
    _lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **kwargs) -> ConnectionPool:
        key = (url, tuple(sorted((name, repr(value)) for name, value in kwargs.items())))
        with cls._lock:
            pool = cls._pools.get(key)
            if pool is None:
                pool = cls._pools[key] = super().from_url(url, **kwargs)
        return pool
