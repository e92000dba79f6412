"""Django's Redis cache shares one connection pool per process (jabber.cache)."""

import threading

from django.core.cache.backends.redis import RedisCache

OPTIONS = {"pool_class": "jabber.cache.SharedConnectionPool", "socket_timeout": 5}


def test_cache_objects_of_every_thread_share_one_connection(redis_server):
    # Django builds one cache object per thread and async context; each used to
    # open connections of its own.
    caches = []

    def use_cache(index: int) -> None:
        cache = RedisCache(redis_server.url, {"OPTIONS": OPTIONS})
        cache.set(f"jabber:test:{index}", index)
        assert cache.get(f"jabber:test:{index}") == index
        caches.append(cache)

    threads = [threading.Thread(target=use_cache, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
        thread.join(timeout=30)
    assert len(caches) == 5
    pools = {id(cache._cache._get_connection_pool(write=True)) for cache in caches}
    assert len(pools) == 1
    pool = caches[0]._cache._get_connection_pool(write=True)
    assert pool._created_connections == 1, "one thread at a time needs one connection"


def test_other_options_get_a_pool_of_their_own(redis_server):
    first = RedisCache(redis_server.url, {"OPTIONS": OPTIONS})
    second = RedisCache(redis_server.url, {"OPTIONS": {**OPTIONS, "socket_timeout": 7}})
    assert first._cache._get_connection_pool(write=True) is not (
        second._cache._get_connection_pool(write=True)
    )
