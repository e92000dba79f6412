from tests.support.people import ann, bob, lobby, mod  # noqa: F401
from tests.support.unit import fake_clock, fresh_cache_and_layer  # noqa: F401
