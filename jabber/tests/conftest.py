from jabber.testing.unit import fake_clock, fresh_cache_and_layer  # noqa: F401
