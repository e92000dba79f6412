"""Token buckets (jabber.ratelimit), in memory and on Redis, where processes share them."""

import threading

import pytest
from django.core.cache import caches

from jabber.ratelimit import Bucket

THREADS = 8
TAKES_PER_THREAD = 5


@pytest.fixture(params=["memory", "redis"])
def cache_backend(request, settings):
    """The default cache as the embedded defaults and as production configure it."""
    if request.param == "memory":
        backend = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    else:
        redis_server = request.getfixturevalue("redis_server")
        backend = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_server.url,
            "OPTIONS": {"pool_class": "jabber.cache.SharedConnectionPool"},
        }
    settings.CACHES = {"default": {**backend, "KEY_PREFIX": "ratelimit-test"}}
    caches["default"].clear()
    return request.param


def test_a_bucket_gives_its_burst_then_says_how_long_to_wait(cache_backend, fake_clock):
    bucket = Bucket("test", burst=3, rate=0.5)
    assert [bucket.take("ann") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take("ann") == pytest.approx(2.0)
    assert bucket.take("bob") == 0.0, "each key has a bucket of its own"
    fake_clock.advance(1.0)
    assert bucket.take("ann") == pytest.approx(1.0)
    fake_clock.advance(1.0)
    assert bucket.take("ann") == 0.0
    assert bucket.take("ann") == pytest.approx(2.0)


def test_a_full_bucket_does_not_fill_beyond_its_burst(cache_backend, fake_clock):
    bucket = Bucket("test", burst=2, rate=1.0)
    bucket.take("ann")
    fake_clock.advance(3600)
    assert [bucket.take("ann") for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]


def test_reset_fills_the_bucket_again(cache_backend, fake_clock):
    bucket = Bucket("test", burst=1, rate=0.01)
    assert bucket.take("ann") == 0.0
    assert bucket.take("ann") > 0
    bucket.reset("ann")
    assert bucket.take("ann") == 0.0


def test_takes_at_the_same_time_never_spend_more_than_the_bucket_holds(cache_backend, fake_clock):
    # On Redis each thread stands for a server process: read, refill and spend are
    # one step, or two takers would both spend the same token.
    bucket = Bucket("test", burst=10, rate=0.001)
    start = threading.Barrier(THREADS, timeout=10)
    waits: list[float] = []

    def take_some() -> None:
        start.wait()
        waits.extend(bucket.take("ann") for _ in range(TAKES_PER_THREAD))

    threads = [threading.Thread(target=take_some) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(waits) == THREADS * TAKES_PER_THREAD
    assert waits.count(0.0) == 10
