from jabber.testing.people import ann, bob, lobby, mod  # noqa: F401
from jabber.testing.unit import fake_clock, fresh_cache_and_layer  # noqa: F401
