"""``manage.py serve``: start Jabber under uvicorn (or daphne) with the production flags.

This is the one place the server command line is written: ``make run``, the
deploy guide, the real-server tests and the benchmark all start servers
through :func:`server_command`.
"""

from __future__ import annotations

import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

APPLICATION = "jabber.asgi:application"
SERVERS = ("uvicorn", "daphne")
# uvicorn's WebSocket implementations; the benchmark chose websockets' Sans-I/O one.
WEBSOCKET_IMPLEMENTATIONS = ("websockets-sansio", "websockets", "wsproto", "auto")
# A reconnect storm after a restart queues here instead of being refused (daphne's
# default is 50).
BACKLOG = 2048
# daphne's default of 5 s to finish a handshake drops sockets during a storm.
DAPHNE_HANDSHAKE_TIMEOUT = 30
# daphne's default, written out: autobahn refuses to send a message over it as
# well as to receive one, so history and replay frames are split below it.
DAPHNE_MAX_MESSAGE = 1024 * 1024
RELOAD_DIRECTORIES = ("jabber", "chat", "presence", "accounts")


def server_command(
    server: str = "uvicorn",
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_frame: int,
    websocket: str = "websockets-sansio",
    reload: bool = False,
    log_level: str | None = None,
    access_log: bool = True,
) -> list[str]:
    """Return the argv that serves Jabber on ``host:port`` with the production flags.

    ``max_frame`` is the server's JABBER_MAX_FRAME: uvicorn refuses a larger
    message, daphne a larger frame, before buffering it. ``websocket``, ``log_level`` and
    ``access_log`` apply to uvicorn; ``reload`` (development) too.
    """
    if server not in SERVERS:
        raise ValueError(f"server must be one of {SERVERS}, not {server!r}")
    if server == "daphne":
        if reload:
            raise ValueError("daphne cannot reload; serve with uvicorn for development")
        return [
            sys.executable, "-m", "daphne",
            "-e", f"tcp:port={port}:interface={host}:backlog={BACKLOG}",
            "--websocket_connect_timeout", str(DAPHNE_HANDSHAKE_TIMEOUT),
            # autobahn fails a larger incoming frame (close 1009) before buffering it.
            # Its message limit stays at 1 MiB: it caps outgoing messages too
            # (chat.protocol.FRAME_BUDGET), and a fragmented message over
            # max_frame is closed with 4009 by the consumer.
            "--websocket-max-frame-size", str(max_frame),
            "--websocket-max-message-size", str(DAPHNE_MAX_MESSAGE),
            "--proxy-headers",
            APPLICATION,
        ]  # fmt: skip
    if websocket not in WEBSOCKET_IMPLEMENTATIONS:
        raise ValueError(f"websocket must be one of {WEBSOCKET_IMPLEMENTATIONS}")
    command = [
        sys.executable, "-m", "uvicorn", APPLICATION,
        "--host", host, "--port", str(port), "--backlog", str(BACKLOG),
        "--ws", websocket, "--ws-max-size", str(max_frame),
        # Room frames are framed once for every socket and never compressed;
        # compressing each socket's own replies costs CPU for little gain.
        "--ws-per-message-deflate", "false",
        "--lifespan", "off",
        "--proxy-headers", "--forwarded-allow-ips", "127.0.0.1",
    ]  # fmt: skip
    if log_level:
        command += ["--log-level", log_level]
    if not access_log:
        command.append("--no-access-log")
    if reload:
        command.append("--reload")
        for directory in RELOAD_DIRECTORIES:
            command += ["--reload-dir", directory]
    return command


class Command(BaseCommand):
    help = "Serve Jabber with the production flags (uvicorn, or daphne with --server daphne)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--server", choices=SERVERS, default="uvicorn")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--ws",
            dest="websocket",
            choices=WEBSOCKET_IMPLEMENTATIONS,
            default="websockets-sansio",
            help="uvicorn's WebSocket implementation (default: websockets-sansio).",
        )
        parser.add_argument(
            "--reload", action="store_true", help="Restart on code changes (uvicorn)."
        )
        parser.add_argument("--log-level", help="uvicorn's log level (default: info).")
        parser.add_argument(
            "--no-access-log", dest="access_log", action="store_false", help="(uvicorn)"
        )

    def handle(self, *args, **options) -> None:
        try:
            command = server_command(
                options["server"],
                host=options["host"],
                port=options["port"],
                max_frame=settings.JABBER_MAX_FRAME,
                websocket=options["websocket"],
                reload=options["reload"],
                log_level=options["log_level"],
                access_log=options["access_log"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.flush()
        # Replace this process: a supervisor's signals, the PID and the CPU
        # affinity (the benchmark pins servers with taskset) reach the server.
        os.execv(command[0], command)
