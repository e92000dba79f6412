"""Serving under uvicorn loads neither daphne nor its stack (Twisted, autobahn)."""

import json
import os
import subprocess
import sys

from tests.support.services import REPO_ROOT

DAPHNES_STACK = ("daphne", "twisted", "autobahn")

# Django set up, the ASGI application built and loaded the way uvicorn loads it.
UNDER_UVICORN = f"""
import json, sys
import uvicorn
config = uvicorn.Config("jabber.asgi:application", lifespan="off", ws="websockets-sansio")
config.load()
import chat.consumers, chat.transport.uvicorn
loaded = sorted({{name.partition(".")[0] for name in sys.modules}} & set({DAPHNES_STACK!r}))
print(json.dumps(loaded))
"""


def test_serving_under_uvicorn_imports_nothing_of_daphnes_stack():
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "jabber.settings", "DJANGO_DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "-c", UNDER_UVICORN],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
