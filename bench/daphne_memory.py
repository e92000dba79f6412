"""Server memory under clients that ask for history and never read the answers.

A quiet room has no broadcasts, so the slow-client cut-off in the consumer's
`deliver` never runs; only the transport's own bound (or none) stops the
history answers piling up in the server. This starts Jabber under each server,
puts MESSAGES long messages in one room, opens REQUESTERS raw sockets (a small
receive buffer, the WebSocket handshake done, then never read) that each ask
for the latest 100 messages RATE times a second (the production frame budget),
and samples the server's VmRSS.

    .venv/bin/python -m bench.daphne_memory --seconds 40

Prints one table row per server and writes bench/results/daphne_memory.json.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import socket
import struct
import sys
import tempfile
import time
from pathlib import Path

from bench.run import JABBER_BENCH_ENV, RESULTS_DIR, SERVERS, Bench, log, rss_kib
from tests.support.clients import recv_until, ws_connect

HISTORY = json.dumps({"type": "history", "limit": 100})  # under 126 bytes: one length byte
ROOM = "quiet"


class NonReader:
    """A WebSocket client that completes the handshake and then never reads."""

    def __init__(self, host: str, port: int, session: str, origin: str) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Set before connecting, so the window offered to the server stays small.
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.socket.settimeout(10)
        self.socket.connect((host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /ws/chat/{ROOM}/ HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {origin}\r\nCookie: sessionid={session}\r\n\r\n"
        )
        self.socket.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = self.socket.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            answer += chunk
        if not answer.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(answer.split(b"\r\n", 1)[0].decode())
        self.socket.setblocking(False)
        self.pending = b""
        self.sent = 0
        self.stalled = 0
        self.cut_off_after: float | None = None

    def request(self, text: str, elapsed: float) -> None:
        """Send one masked text frame, unless the socket is gone or the server stopped reading."""
        if self.cut_off_after is not None:
            return
        if not self.pending:
            payload = text.encode()
            mask = os.urandom(4)
            masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
            self.pending = struct.pack("!BB", 0x81, 0x80 | len(payload)) + mask + masked
            self.sent += 1
        try:
            # What a full send buffer leaves unsent goes first next time, so frames stay whole.
            self.pending = self.pending[self.socket.send(self.pending) :]
        except BlockingIOError:
            self.stalled += 1
        except OSError:
            self.cut_off_after = elapsed

    def close(self) -> None:
        self.socket.close()


async def seed(server, session: str, messages: int, body_length: int) -> None:
    """Put `messages` messages of `body_length` characters in the room, through a socket."""
    async with ws_connect(server, ROOM, session, max_size=None) as client:
        await recv_until(client, "hello")
        for number in range(messages):
            body = f"{number:06d} " + "x" * (body_length - 7)
            await client.send(
                json.dumps({"type": "message", "body": body, "client_id": f"seed-{number}"})
            )
        last = f"seed-{messages - 1}"
        await recv_until(client, lambda f: f.get("client_id") == last, timeout=120)


def measure(bench: Bench, kind_name: str, args: argparse.Namespace) -> dict:
    """Start one server, seed its room, run the non-readers; RSS samples and who was cut off."""
    kind = SERVERS[kind_name]
    server = bench.start(kind)
    try:
        asyncio.run(seed(server, bench.sessions[0], args.messages, args.body))
        baseline = rss_kib(server.pid)
        readers = [
            NonReader("127.0.0.1", server.port, session, server.url)
            for session in bench.sessions[1 : 1 + args.requesters]
        ]
        samples: list[tuple[float, int]] = [(0.0, baseline)]
        started = time.monotonic()
        next_sample = 1.0
        interval = 1.0 / args.rate
        while (elapsed := time.monotonic() - started) < args.seconds:
            for reader in readers:
                reader.request(HISTORY, elapsed)
            if elapsed >= next_sample:
                samples.append((round(elapsed, 1), rss_kib(server.pid)))
                next_sample += 1.0
            time.sleep(interval)
        samples.append((round(time.monotonic() - started, 1), rss_kib(server.pid)))
        for reader in readers:
            reader.close()
        peak = max(rss for _, rss in samples)
        return {
            "server": kind.label,
            "baseline_mib": round(baseline / 1024, 1),
            "peak_mib": round(peak / 1024, 1),
            "final_mib": round(samples[-1][1] / 1024, 1),
            "growth_mib": round((peak - baseline) / 1024, 1),
            "requests_sent": sum(reader.sent for reader in readers),
            "cut_off": [reader.cut_off_after for reader in readers],
            "stalled_sends": sum(reader.stalled for reader in readers),
            "samples_kib": samples,
        }
    finally:
        server.stop()


def main() -> None:
    # As bench.run: the harness reads Jabber's settings, which need the servers' key.
    os.environ.setdefault("DJANGO_SECRET_KEY", JABBER_BENCH_ENV["DJANGO_SECRET_KEY"])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", nargs="+", default=["jabber", "jabber-uvicorn-sansio"])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--body", type=int, default=3000, help="characters per message")
    parser.add_argument("--requesters", type=int, default=3)
    parser.add_argument("--rate", type=float, default=10.0, help="history requests/s each")
    parser.add_argument("--seconds", type=float, default=40.0)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="jabber-daphne-memory-"))
    logdir = workdir / "logs"
    logdir.mkdir()
    bench = Bench(workdir=workdir, logdir=logdir)
    bench.prepare_jabber(users=1 + args.requesters)
    results = []
    try:
        for name in args.servers:
            log(f"{name}: seeding {args.messages} messages, then {args.seconds:.0f} s")
            results.append(measure(bench, name, args))
    finally:
        bench.close()
    RESULTS_DIR.mkdir(exist_ok=True)
    report = {"arguments": vars(args), "load": os.getloadavg(), "results": results}
    (RESULTS_DIR / "daphne_memory.json").write_text(json.dumps(report, indent=1))
    print("| server | RSS before | peak | at end | growth | requests sent | cut off after (s) |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for row in results:
        cut = ", ".join("-" if t is None else f"{t:.0f}" for t in row["cut_off"])
        print(
            f"| {row['server']} | {row['baseline_mib']} MiB | {row['peak_mib']} MiB "
            f"| {row['final_mib']} MiB | {row['growth_mib']} MiB | {row['requests_sent']} "
            f"| {cut} |"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
