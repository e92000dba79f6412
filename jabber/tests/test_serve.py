"""``manage.py serve``: the command line it runs carries the production flags."""

import os

import pytest
from django.core.management import CommandError, call_command


@pytest.fixture
def executed(monkeypatch) -> list[list[str]]:
    """The argv each exec would have run, instead of running it."""
    commands: list[list[str]] = []
    monkeypatch.setattr(os, "execv", lambda path, argv: commands.append(list(argv)))
    return commands


def test_serve_runs_uvicorn_sansio_with_the_frame_limit_and_no_compression(executed, settings):
    settings.JABBER_MAX_FRAME = 12345
    call_command("serve", "--port", "8123")
    (argv,) = executed
    assert argv[1:4] == ["-m", "uvicorn", "jabber.asgi:application"]
    flags = dict(zip(argv[4::2], argv[5::2], strict=False))
    assert flags["--ws"] == "websockets-sansio"
    assert flags["--ws-max-size"] == "12345"
    assert flags["--ws-per-message-deflate"] == "false"
    assert flags["--lifespan"] == "off"
    assert flags["--backlog"] == "2048"
    assert flags["--port"] == "8123"


def test_serve_with_daphne_gives_it_the_backlog_and_handshake_time(executed):
    call_command("serve", "--server", "daphne", "--host", "127.0.0.2", "--port", "8124")
    (argv,) = executed
    assert argv[1:3] == ["-m", "daphne"]
    assert "tcp:port=8124:interface=127.0.0.2:backlog=2048" in argv
    assert argv[argv.index("--websocket_connect_timeout") + 1] == "30"


def test_serve_with_daphne_limits_incoming_frames_to_the_frame_limit(executed, settings):
    settings.JABBER_MAX_FRAME = 12345
    call_command("serve", "--server", "daphne")
    (argv,) = executed
    assert argv[argv.index("--websocket-max-frame-size") + 1] == "12345"
    # autobahn caps outgoing messages with the message limit: history frames need 1 MiB.
    assert argv[argv.index("--websocket-max-message-size") + 1] == str(1024 * 1024)


def test_serve_refuses_to_reload_under_daphne(executed):
    with pytest.raises(CommandError):
        call_command("serve", "--server", "daphne", "--reload")
    assert executed == []
