"""The deploy guide's settings hold: client addresses behind nginx, Redis with a password,
server message limits, no concrete secret (SPEC §15)."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.support.clients import UserSpec, create_user_sessions
from tests.support.services import REDIS_BINARY, ServerProcess, app_env, free_port, require

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "deploy.md").read_text()
MAKEFILE = (ROOT / "Makefile").read_text()

# How the guide starts each server behind nginx.
PROXY_OPTIONS = {
    "daphne": ["--proxy-headers"],
    "uvicorn": ["--proxy-headers", "--forwarded-allow-ips", "127.0.0.1"],
}


class ProxiedServer(ServerProcess):
    """A test server started with the guide's proxy options."""

    def command(self) -> list[str]:
        return [*super().command(), *PROXY_OPTIONS[self.kind]]


def forwarded_for_from_nginx(client_sent: str | None, remote_addr: str) -> str:
    """The X-Forwarded-For that the guide's nginx passes on for a client at `remote_addr`."""
    (value,) = set(re.findall(r"proxy_set_header X-Forwarded-For (\S+);", GUIDE))
    if value == "$remote_addr":
        return remote_addr
    assert value == "$proxy_add_x_forwarded_for", value
    return f"{client_sent}, {remote_addr}" if client_sent else remote_addr


def failed_login(server: ServerProcess, forwarded_for: str) -> str:
    """One wrong password, through nginx's headers: "refused", or "limited" for its address."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    headers = {"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"}
    page = opener.open(urllib.request.Request(f"{server.url}/accounts/login/", headers=headers))
    cookie = re.search(r"csrftoken=([^;]+)", page.headers["Set-Cookie"])[1]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode())[1]
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "login": "ann", "password": "wrong"}
    ).encode()
    request = urllib.request.Request(
        f"{server.url}/accounts/login/",
        data=data,
        # Over HTTPS (as nginx says) Django checks the Referer, as a browser sends it.
        headers={
            **headers,
            "Cookie": f"csrftoken={cookie}",
            "Referer": f"https://127.0.0.1:{server.port}/accounts/login/",
        },
    )
    answer = opener.open(request).read().decode()
    # allauth answers a limited address with the form and this error, not a 429.
    return "limited" if "Too many failed login attempts" in answer else "refused"


@pytest.mark.parametrize("kind", ["daphne", "uvicorn"])
def test_a_client_behind_the_guides_nginx_cannot_spread_logins_over_made_up_addresses(
    sqlite_env, tmp_path, kind
):
    env = {**sqlite_env, "JABBER_LOGIN_FAILED_RATE": "2/m/ip"}
    create_user_sessions(env, [UserSpec("ann")])
    server = ProxiedServer(env, kind=kind, log_dir=tmp_path).start()
    try:
        attacker, neighbour = "203.0.113.7", "198.51.100.9"
        statuses = [
            failed_login(server, forwarded_for_from_nginx(f"192.0.2.{n}", attacker))
            for n in range(3)
        ]
        assert statuses == ["refused", "refused", "limited"]
        # Another client is its own address, not the attacker's.
        assert failed_login(server, forwarded_for_from_nginx(None, neighbour)) == "refused"
    finally:
        server.stop()


def test_redis_with_a_user_and_password_serves_the_cache_and_the_channel_layer(tmp_path):
    require(Path(REDIS_BINARY).exists(), f"{REDIS_BINARY} is not installed")
    port, password = free_port(), secrets.token_urlsafe(16)
    redis = subprocess.Popen(
        [REDIS_BINARY, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path), "--user", "default", "off",
         "--user", "jabber", "on", f">{password}", "~*", "&*", "+@all"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    probe = (
        "import django; django.setup()\n"
        "from asgiref.sync import async_to_sync\n"
        "from channels.layers import get_channel_layer\n"
        "from django.core.cache import cache\n"
        "cache.set('probe', {'pickled': True}); assert cache.get('probe') == {'pickled': True}\n"
        "layer = get_channel_layer()\n"
        "async def roundtrip():\n"
        "    channel = await layer.new_channel()\n"
        "    await layer.send(channel, {'type': 'probe'})\n"
        "    return await layer.receive(channel)\n"
        "assert async_to_sync(roundtrip)() == {'type': 'probe'}\n"
        "print('ok')\n"
    )

    def run_with(url: str) -> subprocess.CompletedProcess:
        env = app_env({"REDIS_URL": url, "DJANGO_SETTINGS_MODULE": "jabber.settings"})
        return subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
        )

    try:
        deadline = time.monotonic() + 10
        while run_with(f"redis://jabber:{password}@127.0.0.1:{port}/0").stdout.strip() != "ok":
            assert time.monotonic() < deadline, "Redis with a password did not serve Jabber"
            time.sleep(0.1)
        refused = run_with(f"redis://127.0.0.1:{port}/0")
        assert refused.returncode != 0 and "auth" in refused.stderr.lower()
    finally:
        redis.terminate()
        redis.wait(10)


def test_every_server_command_limits_websocket_messages_to_the_frame_limit():
    # A command with its continuation lines.
    uvicorn = re.findall(r"uvicorn jabber\.asgi:application(?:[^\n]*\\\n)*[^\n]*", GUIDE + MAKEFILE)
    daphne = re.findall(r"daphne -e .*?jabber\.asgi:application", GUIDE, re.DOTALL)
    assert len(uvicorn) == 3 and daphne
    for command in [*uvicorn, *daphne]:
        assert re.search(r"--ws-max-size 65536|--websocket-max-message-size 65536", command), (
            command
        )
    assert "--ws-max-size 65536" in MAKEFILE


def test_the_guide_shows_no_concrete_secret_key():
    (value,) = re.findall(r"^DJANGO_SECRET_KEY=(\S+)", GUIDE, re.MULTILINE)
    assert "paste" in value and len(value) < 50
