"""The WebSocket Origin check compares scheme, host and port (SPEC §15)."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers

from accounts.tests.factories import UserFactory
from jabber.origins import origin_allowed
from tests.support.unit import open_socket

pytestmark = pytest.mark.django_db(transaction=True)


def scope(
    origin: str, host: str | None = "chat.example.com", scheme: str = "ws", **headers
) -> dict:
    raw = [(b"origin", origin.encode())]
    if host is not None:
        raw.append((b"host", host.encode()))
    raw += [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    return {"type": "websocket", "scheme": scheme, "headers": raw}


@pytest.fixture
def hosts(settings):
    settings.ALLOWED_HOSTS = ["chat.example.com", "127.0.0.1"]
    settings.CSRF_TRUSTED_ORIGINS = []
    return settings


@pytest.mark.parametrize(
    ("origin", "request_scope", "allowed"),
    [
        ("http://chat.example.com", scope("", "chat.example.com"), True),
        ("https://chat.example.com", scope("", "chat.example.com"), False),
        ("http://chat.example.com:8080", scope("", "chat.example.com"), False),
        ("http://chat.example.com:8080", scope("", "chat.example.com:8080"), True),
        ("https://chat.example.com", scope("", "chat.example.com", scheme="wss"), True),
        ("http://chat.example.com", scope("", "chat.example.com", scheme="wss"), False),
        ("http://evil.example", scope("", "chat.example.com"), False),
    ],
    ids=["same", "other-scheme", "other-port", "own-port", "tls", "downgrade", "foreign"],
)
def test_an_allowed_host_must_come_on_the_servers_own_scheme_and_port(
    hosts, origin, request_scope, allowed
):
    request_scope["headers"][0] = (b"origin", origin.encode())
    assert origin_allowed(request_scope) is allowed


def test_a_tls_proxy_that_says_so_makes_https_our_own_scheme(hosts):
    hosts.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxied = scope("https://chat.example.com", "chat.example.com", x_forwarded_proto="https")
    assert origin_allowed(proxied)
    assert not origin_allowed(scope("https://chat.example.com", "chat.example.com"))


def test_trusted_origins_match_exactly_or_by_subdomain_wildcard(hosts):
    hosts.CSRF_TRUSTED_ORIGINS = ["https://app.example.org", "https://*.example.net"]
    assert origin_allowed(scope("https://app.example.org"))
    assert origin_allowed(scope("https://eu.example.net"))
    assert not origin_allowed(scope("http://app.example.org"))
    assert not origin_allowed(scope("https://app.example.org:8443"))


async def test_a_socket_from_another_scheme_of_an_allowed_host_is_refused():
    ann = await database_sync_to_async(UserFactory)(username="ann")
    socket, hello = await open_socket(ann, "lobby", origin="https://127.0.0.1")
    assert hello is None and not socket.accepted


async def test_a_socket_from_another_port_of_an_allowed_host_is_refused():
    ann = await database_sync_to_async(UserFactory)(username="ann")
    socket, hello = await open_socket(ann, "lobby", origin="http://127.0.0.1:8080")
    assert hello is None and not socket.accepted


class WatchedLayer:
    """A channel layer that notes whoever subscribes to it or waits on it."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def new_channel(self, prefix: str = "specific.") -> str:
        self.calls.append("new_channel")
        return f"{prefix}watched!1"

    async def receive(self, channel: str) -> dict:
        self.calls.append("receive")
        return await asyncio.get_running_loop().create_future()  # nothing ever comes


@pytest.mark.parametrize(
    "refused",
    [{"origin": "https://evil.example"}, {"path": "/ws/elsewhere/"}],
    ids=["foreign-origin", "unknown-path"],
)
async def test_a_refused_socket_never_waits_on_the_channel_layer(monkeypatch, refused):
    # Channels' own denier subscribed and waited on the layer until the client left;
    # on Redis that wait could lose its cancellation and hang a closing loop (a test's
    # teardown on PostgreSQL + Redis did, for 300 s). A refused socket hears nothing.
    layer = WatchedLayer()
    monkeypatch.setitem(channel_layers.backends, "default", layer)
    socket, hello = await open_socket(None, "lobby", **refused)
    assert hello is None and not socket.accepted
    await socket.communicator.disconnect()  # the client leaves; the denier's application ends
    assert layer.calls == []
