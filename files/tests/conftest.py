from pathlib import Path

import pytest

from tests.support.people import ann, bob, lobby, mod  # noqa: F401
from tests.support.unit import fake_clock, fresh_cache_and_layer  # noqa: F401


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    """Every test stores its uploads in a directory of its own."""
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root
