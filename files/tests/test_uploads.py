"""The ASGI body limit: an upload over JABBER_MAX_UPLOAD gets 413 before Django spools it."""

import json

import pytest

from files.uploads import MULTIPART_SLACK, BodySizeLimit


class Recorder:
    """An ASGI application that reads the whole body, and what it was sent."""

    def __init__(self) -> None:
        self.body = b""
        self.called = False

    async def __call__(self, scope, receive, send) -> None:
        self.called = True
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # as Django does: a request cut off gets no answer
            self.body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def run(application, headers, chunks):
    pending = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
    pending[-1]["more_body"] = False
    sent = []

    async def receive():
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/chat/lobby/upload/", "headers": headers}
    await application(scope, receive, send)
    return sent


@pytest.fixture
def limit(settings) -> int:
    settings.JABBER_MAX_UPLOAD = 1000
    return 1000 + MULTIPART_SLACK


async def test_a_declared_length_over_the_limit_is_413_before_the_application_runs(limit):
    inner = Recorder()
    sent = await run(BodySizeLimit(inner), [(b"content-length", str(limit + 1).encode())], [b""])
    assert sent[0]["status"] == 413 and not inner.called
    assert json.loads(sent[1]["body"])["error"] == "too_large"


async def test_a_body_that_grows_past_the_limit_is_cut_off_with_413(limit):
    inner = Recorder()
    chunk = b"x" * 16384
    sent = await run(BodySizeLimit(inner), [], [chunk] * (limit // len(chunk) + 2))
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [413]
    assert len(inner.body) <= limit


async def test_a_body_within_the_limit_passes_through(limit):
    inner = Recorder()
    sent = await run(BodySizeLimit(inner), [(b"content-length", b"3")], [b"abc"])
    assert sent[0]["status"] == 200 and inner.body == b"abc"
