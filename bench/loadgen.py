"""Asyncio WebSocket load generator for Jabber and the reference servers.

Each client is one WebSocket (logged in with a session cookie when sessions are
given). Senders stamp every message's ``client_id`` with the monotonic send time;
every receiver (the sender included) turns it into a delivery latency. A step
offers a total deliveries/s for a measured window and reports latency
percentiles, achieved deliveries/s and loss (expected minus received deliveries).

Run against a running server, for example::

    python -m bench.loadgen --url ws://127.0.0.1:8000 --sessions sessions.json \\
        --rooms 10 --clients 50 --senders 1 --rate 1000 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import resource
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import enable_client_permessage_deflate
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.typing import Origin
from websockets.uri import parse_uri

# Message frames are recognised without a full JSON parse: the generator must
# stay cheaper per delivery than the servers it measures.
SEQ_RE = re.compile(rb'"seq": ?(\d+)')
ID_RE = re.compile(rb'"id": ?(\d+)')
STAMP_RE = re.compile(rb'"client_id": ?"b(\d+)-')
TYPE_RE = re.compile(rb'^\{"type": ?"(\w+)"')

MAX_FRAME = 16 * 1024 * 1024

# Bodies of --markdown runs, as JSON string contents, in the proportions of a chat:
# most plain, some with a link and a mention, emphasis, inline code, a code block.
MARKDOWN_MIX = (
    ["plain words of an ordinary chat message, nothing to format in it at all"] * 7
    + ["see https://example.com/releases/1.2 and tell @bench1 **today**"]
    + ["`make test` passes, *finally*, but ~~bench~~ is slow"]
    + ["```\\ndef main():\\n    return 0\\n```"]
)


@dataclass
class Scenario:
    """Who connects where: rooms x clients per room, of which some send."""

    rooms: int = 10
    clients_per_room: int = 50
    senders_per_room: int = 1
    body_size: int = 64
    # Bodies from MARKDOWN_MIX (links, code, mentions) instead of plain padding.
    markdown: bool = False
    ping_interval: float = 25.0
    room_prefix: str = "bench"
    connect_concurrency: int = 50

    @property
    def clients(self) -> int:
        """The number of sockets the scenario opens."""
        return self.rooms * self.clients_per_room


@dataclass
class Target:
    """A server (or several, behind an imaginary load balancer) and how to log in."""

    urls: list[str]
    origin: str | None = None
    sessions: list[str] | None = None
    compression: bool = False

    def url_for(self, index: int, room: str, query: str = "") -> str:
        """The socket URL of client `index`: clients are spread over the servers round robin."""
        base = self.urls[index % len(self.urls)]
        return f"{base}/ws/chat/{room}/{query}"

    def headers_for(self, index: int) -> dict[str, str]:
        """The session cookie of client `index`, when the target needs one."""
        if not self.sessions:
            return {}
        return {"Cookie": f"sessionid={self.sessions[index % len(self.sessions)]}"}


@dataclass
class StepResult:
    """What one measured window showed."""

    offered: float
    achieved: float
    duration: float
    sent: int
    expected: int
    received: int
    loss: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    send_lag_p99_ms: float
    seq_gaps: int
    duplicates: int
    errors: dict[str, int] = field(default_factory=dict)
    closed: int = 0
    generator_cpu: float = 0.0
    server_cpu: float | None = None
    other_cpu: float = 0.0
    attempts: int = 1

    @property
    def generator_bound(self) -> bool:
        """The generator used (nearly) its whole core: the server may be faster than this."""
        return self.generator_cpu >= 0.9

    def held(self, bound_ms: float) -> bool:
        """Nothing lost, p99 within the bound, and the offered rate really delivered."""
        return (
            self.loss == 0
            and self.seq_gaps == 0
            and self.closed == 0
            and self.expected > 0
            and self.p99_ms <= bound_ms
            and self.achieved >= 0.9 * self.offered
        )

    def summary(self) -> str:
        """One line for progress output."""
        line = (
            f"{self.offered:>7.0f}/s: achieved {self.achieved:>8.0f}/s p50 {self.p50_ms:7.1f}"
            f" p99 {self.p99_ms:7.1f} max {self.max_ms:7.1f} ms loss {self.loss}"
            f" cores: server {self.server_cpu} generator {self.generator_cpu}"
            f" other {self.other_cpu}"
        )
        return line + (f" errors {self.errors}" if self.errors else "")

    def as_dict(self) -> dict:
        """A JSON-ready copy."""
        return asdict(self)


@dataclass
class Window:
    """The measured window of a step, in perf_counter nanoseconds."""

    start: int = 0
    end: int = 0
    received: int = 0
    latencies_us: list[int] = field(default_factory=list)


def percentile(ordered: list[int], fraction: float) -> int:
    """The nearest-rank percentile of an already sorted list (0 when empty)."""
    if not ordered:
        return 0
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds spent busy (not idle or waiting for I/O) by all cores since boot."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuUse:
    """Cores used over an interval by the servers, this generator, and everything else."""

    server: float
    generator: float
    other: float


@dataclass(frozen=True)
class CpuSample:
    """CPU counters at one instant."""

    at: float
    server: float
    generator: float
    machine: float

    @classmethod
    def take(cls, server_pids: list[int]) -> CpuSample:
        """Read the counters now (a vanished server counts as zero)."""
        server = 0.0
        for pid in server_pids:
            try:
                server += process_cpu_seconds(pid)
            except OSError:
                pass
        own = os.times()
        return cls(time.perf_counter(), server, own.user + own.system, machine_busy_seconds())

    def since(self, before: CpuSample) -> CpuUse:
        """Average cores used between `before` and this sample."""
        wall = max(1e-6, self.at - before.at)
        server = (self.server - before.server) / wall
        generator = (self.generator - before.generator) / wall
        machine = (self.machine - before.machine) / wall
        return CpuUse(
            server=round(server, 3),
            generator=round(generator, 3),
            other=round(max(0.0, machine - server - generator), 3),
        )


def raise_file_limit() -> None:
    """Allow as many sockets as the hard limit permits."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Wire(asyncio.BufferedProtocol):
    """One WebSocket on a raw asyncio transport, framed by websockets' Sans-I/O protocol.

    Frames are handed to a callback as they are parsed, straight from the socket
    buffer: no per-frame queue, future or task, so one core can receive tens of
    thousands of deliveries per second.
    """

    def __init__(
        self,
        url: str,
        origin: str | None,
        headers: dict[str, str],
        on_text: Callable[[bytes, int], None],
        on_close: Callable[[], None],
        compression: bool = False,
    ) -> None:
        extensions = enable_client_permessage_deflate(None) if compression else None
        self.protocol = ClientProtocol(
            parse_uri(url),
            origin=Origin(origin) if origin else None,
            extensions=extensions,
            max_size=MAX_FRAME,
        )
        self.headers = headers
        self.on_text = on_text
        self.on_close = on_close
        self.buffer = memoryview(bytearray(256 * 1024))
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.fragments: list[bytes] = []
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        request = self.protocol.connect()
        for name, value in self.headers.items():
            request.headers[name] = value
        self.protocol.send_request(request)
        self.flush()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.protocol.receive_data(bytes(self.buffer[:nbytes]))
        self.process_events()

    def eof_received(self) -> bool:
        self.protocol.receive_eof()
        self.process_events()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"connection lost: {exc}"))
        self.on_close()

    def process_events(self) -> None:
        """Act on what the parser produced: the handshake answer, then text frames."""
        now = time.perf_counter_ns()
        for event in self.protocol.events_received():
            if isinstance(event, Frame):
                if event.opcode is Opcode.TEXT or event.opcode is Opcode.CONT:
                    if event.fin and not self.fragments:
                        self.on_text(event.data, now)
                    elif event.fin:
                        self.fragments.append(event.data)
                        self.on_text(b"".join(self.fragments), now)
                        self.fragments = []
                    else:
                        self.fragments.append(event.data)
            elif isinstance(event, Response) and not self.opened.done():
                if self.protocol.handshake_exc is not None:
                    self.opened.set_exception(self.protocol.handshake_exc)
                else:
                    self.opened.set_result(None)
        self.flush()

    def flush(self) -> None:
        """Write what the protocol wants sent (pongs, close frames, our frames)."""
        if self.transport is None:
            return
        for data in self.protocol.data_to_send():
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():
                self.transport.write_eof()
        if self.protocol.close_expected():
            self.transport.close()

    def send_text(self, text: str) -> None:
        """Queue one text frame; never waits (the load is open loop)."""
        if self.lost:
            raise ConnectionError("closed")
        self.protocol.send_text(text.encode())
        self.flush()

    def close(self, abort: bool = False) -> None:
        """Send a close frame and hang up, or drop the TCP connection at once."""
        if self.transport is None or self.lost:
            return
        if abort:
            self.transport.abort()
            return
        try:
            self.protocol.send_close(1000)
            self.flush()
        finally:
            self.transport.close()


class Client:
    """One chat participant: counts its deliveries and remembers ids for resuming."""

    def __init__(self, generator: LoadGenerator, index: int, room: int) -> None:
        self.generator = generator
        self.index = index
        self.room = room
        self.wire: Wire | None = None
        self.hello: asyncio.Future[dict] | None = None
        self.pinger: asyncio.Task | None = None
        self.last_seq = 0
        self.recent_ids: list[int] = []
        self.closing = False

    @property
    def room_name(self) -> str:
        """The room this client sits in."""
        return f"{self.generator.scenario.room_prefix}_r{self.room}"

    @property
    def connected(self) -> bool:
        """Open and past `hello`."""
        return self.wire is not None and not self.wire.lost and self.hello is not None

    async def open(self, query: str = "", timeout: float = 30.0) -> float:
        """Connect and wait for `hello`; return the seconds that took."""
        target = self.generator.target
        url = target.url_for(self.index, self.room_name, query)
        uri = parse_uri(url)
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        self.closing = False
        hello: asyncio.Future[dict] = loop.create_future()
        # A socket that dies during the handshake fails `opened`; nobody awaits `hello` then.
        hello.add_done_callback(lambda done: done.cancelled() or done.exception())

        def on_text(data: bytes, now: int) -> None:
            if hello.done():
                self.on_text(data, now)
                return
            try:
                frame = json.loads(data)
            except ValueError as error:
                hello.set_exception(error)
                return
            if frame.get("type") == "hello":
                hello.set_result(frame)
            else:
                hello.set_exception(RuntimeError(f"first frame: {str(frame)[:120]}"))

        def on_close() -> None:
            if not hello.done():
                hello.set_exception(ConnectionError("closed before hello"))
            elif not self.closing and not self.generator.closing:
                self.generator.closed += 1

        async def handshake() -> dict:
            _, wire = await loop.create_connection(
                lambda: Wire(
                    url, target.origin, target.headers_for(self.index), on_text, on_close,
                    target.compression,
                ),
                uri.host,
                uri.port,
            )  # fmt: skip
            self.wire = wire
            await wire.opened
            return await hello

        try:
            frame = await asyncio.wait_for(handshake(), timeout)
        except BaseException:
            if self.wire is not None:
                self.wire.close(abort=True)
            self.wire = None
            raise
        for message in frame.get("messages") or ():
            self.recent_ids.append(message["id"])
            self.last_seq = max(self.last_seq, message.get("seq", 0))
        del self.recent_ids[:-100]
        self.hello = hello
        interval = self.generator.scenario.ping_interval
        if interval > 0:
            self.pinger = asyncio.create_task(self.ping(interval))
        return time.perf_counter() - started

    def on_text(self, data: bytes, now: int) -> None:
        """Account for one frame received after `hello`."""
        generator = self.generator
        if b'"message"' not in data[:24]:
            generator.count_other(data)
            return
        seq_match = SEQ_RE.search(data)
        if seq_match is not None:
            seq = int(seq_match.group(1))
            if self.last_seq and seq > self.last_seq + 1:
                generator.seq_gaps += seq - self.last_seq - 1
            elif seq <= self.last_seq:
                generator.duplicates += 1
            if seq > self.last_seq:
                self.last_seq = seq
        id_match = ID_RE.search(data)
        if id_match is not None:
            self.recent_ids.append(int(id_match.group(1)))
            if len(self.recent_ids) > 200:
                del self.recent_ids[:100]
        stamp = STAMP_RE.search(data)
        if stamp is None:
            return
        sent = int(stamp.group(1))
        window = generator.window
        if window.start <= sent < window.end:
            window.received += 1
            window.latencies_us.append((now - sent) // 1000)

    async def ping(self, interval: float) -> None:
        """Send `ping` like the browser client does, starting at a random phase."""
        await asyncio.sleep(random.uniform(0, interval))
        while self.wire is not None and not self.wire.lost:
            self.wire.send_text('{"type":"ping"}')
            await asyncio.sleep(interval)

    async def send_at_rate(self, rate: float, start: float, stop: float, sender: int) -> int:
        """Send messages at `rate` per second from `start` to `stop` (perf_counter seconds)."""
        generator = self.generator
        scenario = generator.scenario
        padding = "x" * scenario.body_size
        interval = 1.0 / rate
        due = start + random.uniform(0, interval)
        count = 0
        while due < stop and self.wire is not None:
            now = time.perf_counter()
            if due > now:
                await asyncio.sleep(due - now)
            stamp = time.perf_counter_ns()
            generator.send_lags_us.append(max(0, (stamp - int(due * 1e9)) // 1000))
            try:
                body = MARKDOWN_MIX[count % len(MARKDOWN_MIX)] if scenario.markdown else padding
                self.wire.send_text(
                    f'{{"type":"message","body":"{body}","client_id":"b{stamp}-{sender}-{count}"}}'
                )
            except ConnectionError:
                return count
            if generator.window.start <= stamp < generator.window.end:
                generator.sent_in_window[self.room] += 1
            count += 1
            due += interval
        return count

    def close(self, abort: bool = False) -> None:
        """Close the socket (abort: drop the TCP connection without a closing handshake)."""
        self.closing = True
        if self.pinger is not None:
            self.pinger.cancel()
            self.pinger = None
        wire, self.wire, self.hello = self.wire, None, None
        if wire is not None:
            wire.close(abort=abort)


class LoadGenerator:
    """Opens a scenario's sockets once, then runs measured steps over them."""

    def __init__(self, target: Target, scenario: Scenario) -> None:
        self.target = target
        self.scenario = scenario
        self.clients: list[Client] = []
        self.window = Window()
        self.sent_in_window: list[int] = [0] * scenario.rooms
        self.send_lags_us: list[int] = []
        self.seq_gaps = 0
        self.duplicates = 0
        self.closed = 0
        self.closing = False
        self.errors: Counter[str] = Counter()
        self.other_frames: Counter[str] = Counter()

    def count_other(self, data: bytes) -> None:
        """Count a frame that is not a `message` (errors by code, others by type)."""
        match = TYPE_RE.match(data)
        kind = match.group(1).decode() if match else "unknown"
        if kind == "error":
            try:
                kind = "error:" + str(json.loads(data).get("code", "?"))
            except ValueError:
                pass
            self.errors[kind] += 1
        self.other_frames[kind] += 1

    def busy_frames(self) -> int:
        """Frames other than `pong` received so far: they show the server is still busy."""
        return sum(self.other_frames.values()) - self.other_frames["pong"]

    def room_size(self, room: int) -> int:
        """Connected clients in a room."""
        return sum(1 for client in self.clients if client.room == room and client.connected)

    async def open(self, concurrency: int | None = None, timeout: float = 60.0) -> dict:
        """Open every socket of the scenario; return how long it took and what failed."""
        raise_file_limit()
        scenario = self.scenario
        limit = asyncio.Semaphore(concurrency or scenario.connect_concurrency)
        self.clients = [
            Client(self, room * scenario.clients_per_room + seat, room)
            for room in range(scenario.rooms)
            for seat in range(scenario.clients_per_room)
        ]
        failures: Counter[str] = Counter()

        async def one(client: Client) -> None:
            async with limit:
                try:
                    await client.open(timeout=timeout)
                except Exception as error:
                    failures[type(error).__name__ + ": " + str(error)[:80]] += 1

        started = time.perf_counter()
        # Rooms fill one after another, as people trickle in, not all at once.
        await asyncio.gather(*(one(client) for client in self.clients))
        return {
            "clients": len(self.clients),
            "opened": sum(1 for client in self.clients if client.connected),
            "seconds": round(time.perf_counter() - started, 3),
            "failures": dict(failures),
        }

    async def settle(self, quiet: float = 1.0, timeout: float = 60.0) -> float:
        """Wait until no frame has arrived for `quiet` seconds (join storms are over)."""
        started = time.perf_counter()
        last = self.busy_frames()
        quiet_since = time.perf_counter()
        while time.perf_counter() - started < timeout:
            await asyncio.sleep(0.2)
            now_count = self.busy_frames()
            if now_count != last:
                last, quiet_since = now_count, time.perf_counter()
            elif time.perf_counter() - quiet_since >= quiet:
                break
        return time.perf_counter() - started

    def senders(self) -> list[Client]:
        """The first `senders_per_room` connected clients of each room."""
        chosen: list[Client] = []
        for room in range(self.scenario.rooms):
            members = [c for c in self.clients if c.room == room and c.connected]
            chosen.extend(members[: self.scenario.senders_per_room])
        return chosen

    async def step(
        self,
        deliveries_per_second: float,
        *,
        duration: float = 5.0,
        warmup: float = 1.0,
        drain: float = 3.0,
        server_pids: list[int] | None = None,
    ) -> StepResult:
        """Offer a total deliveries/s for warmup + duration; measure the window after warmup."""
        senders = self.senders()
        if not senders:
            raise RuntimeError("no connected sender")
        sizes = [self.room_size(room) for room in range(self.scenario.rooms)]
        # Deliveries per message = room size, so each sender's rate follows.
        per_sender = [
            deliveries_per_second / len(senders) / max(1, sizes[sender.room]) for sender in senders
        ]
        begin = time.perf_counter() + 0.05
        self.window = Window(
            start=int((begin + warmup) * 1e9), end=int((begin + warmup + duration) * 1e9)
        )
        self.sent_in_window = [0] * self.scenario.rooms
        self.send_lags_us = []
        gaps, duplicates, closed = self.seq_gaps, self.duplicates, self.closed
        errors_before = Counter(self.errors)
        stop = begin + warmup + duration

        async def measure_cpu() -> CpuUse:
            await asyncio.sleep(max(0.0, begin + warmup - time.perf_counter()))
            before = CpuSample.take(server_pids or [])
            await asyncio.sleep(duration)
            return CpuSample.take(server_pids or []).since(before)

        cpu_task = asyncio.create_task(measure_cpu())
        await asyncio.gather(
            *(
                sender.send_at_rate(rate, begin, stop, index)
                for index, (sender, rate) in enumerate(zip(senders, per_sender, strict=True))
            )
        )
        cpu = await cpu_task
        expected = sum(count * sizes[room] for room, count in enumerate(self.sent_in_window))
        deadline = time.perf_counter() + drain
        while self.window.received < expected and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        received = self.window.received
        latencies = sorted(self.window.latencies_us)
        lags = sorted(self.send_lags_us)
        errors = Counter(self.errors)
        errors.subtract(errors_before)
        return StepResult(
            offered=deliveries_per_second,
            achieved=round(received / duration, 1),
            duration=duration,
            sent=sum(self.sent_in_window),
            expected=expected,
            received=received,
            loss=max(0, expected - received),
            p50_ms=percentile(latencies, 0.50) / 1000,
            p90_ms=percentile(latencies, 0.90) / 1000,
            p99_ms=percentile(latencies, 0.99) / 1000,
            max_ms=(latencies[-1] / 1000) if latencies else 0.0,
            send_lag_p99_ms=percentile(lags, 0.99) / 1000,
            seq_gaps=self.seq_gaps - gaps,
            duplicates=self.duplicates - duplicates,
            errors={code: count for code, count in errors.items() if count},
            closed=self.closed - closed,
            generator_cpu=cpu.generator,
            server_cpu=cpu.server if server_pids else None,
            other_cpu=cpu.other,
        )

    async def reconnect_storm(self, replay: int = 20, timeout: float = 15.0) -> dict:
        """Drop every socket at once and reopen them all at once with ``?after=``.

        Each client resumes `replay` messages back from the last id it saw, so
        every `hello` replays up to that many messages. Returns timings to `hello`.
        """
        resume = {}
        self.clients = [client for client in self.clients if client.connected]
        for client in self.clients:
            ids = client.recent_ids
            resume[client.index] = ids[-replay] if len(ids) >= replay else (ids[0] if ids else 0)
        self.closing = True
        for client in self.clients:
            client.close(abort=True)
        # Let the loop run connection_lost callbacks before the storm.
        await asyncio.sleep(0.1)
        self.closing = False
        failures: Counter[str] = Counter()
        times: list[float] = []

        async def one(client: Client) -> None:
            try:
                times.append(
                    await client.open(query=f"?after={resume[client.index]}", timeout=timeout)
                )
            except Exception as error:
                failures[type(error).__name__ + ": " + str(error)[:80]] += 1

        started = time.perf_counter()
        await asyncio.gather(*(one(client) for client in self.clients))
        wall = time.perf_counter() - started
        ordered = sorted(times)
        return {
            "clients": len(self.clients),
            "hello": len(times),
            "hello_within_10s": sum(1 for seconds in times if seconds <= 10.0),
            "failures": dict(failures),
            "wall_s": round(wall, 3),
            "timeout_s": timeout,
            "p50_s": round(ordered[len(ordered) // 2], 3) if ordered else None,
            "p99_s": round(ordered[int(len(ordered) * 0.99) - 1], 3) if ordered else None,
            "max_s": round(ordered[-1], 3) if ordered else None,
        }

    async def close(self) -> None:
        """Close every socket with a close frame, then give the loop a moment to flush."""
        self.closing = True
        for client in self.clients:
            client.close()
        await asyncio.sleep(0.2)


async def run_cli(args: argparse.Namespace) -> dict:
    """Open the scenario, run one step per rate, print and return the results."""
    sessions = None
    if args.sessions:
        sessions = [row["session"] for row in json.loads(Path(args.sessions).read_text())]
    target = Target(
        urls=args.url,
        origin=args.origin or args.url[0].replace("ws://", "http://"),
        sessions=sessions,
        compression=args.compression,
    )
    scenario = Scenario(
        rooms=args.rooms,
        clients_per_room=args.clients,
        senders_per_room=args.senders,
        body_size=args.body_size,
        ping_interval=args.ping,
        room_prefix=args.room_prefix,
    )
    generator = LoadGenerator(target, scenario)
    report: dict = {"open": await generator.open()}
    print(json.dumps(report["open"]))
    report["settle_s"] = round(await generator.settle(), 2)
    report["steps"] = []
    for rate in args.rate:
        if args.per_sender_rate:
            rate = rate * scenario.senders_per_room * scenario.rooms * scenario.clients_per_room
        result = await generator.step(
            rate, duration=args.duration, warmup=args.warmup, server_pids=args.server_pid
        )
        report["steps"].append(result.as_dict())
        print(json.dumps(result.as_dict()))
    await generator.close()
    return report


def main() -> None:
    """Command line: drive a running server with one scenario."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", action="append", help="ws://host:port (repeat: several servers)")
    parser.add_argument("--origin", help="Origin header (default: the first URL as http://)")
    parser.add_argument("--sessions", help="JSON list of {session} from bench.users")
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--clients", type=int, default=50, help="clients per room")
    parser.add_argument("--senders", type=int, default=1, help="senders per room")
    parser.add_argument(
        "--rate", type=float, action="append", help="total deliveries/s (repeat for steps)"
    )
    parser.add_argument(
        "--per-sender-rate", action="store_true", help="--rate is messages/s per sender"
    )
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--body-size", type=int, default=64)
    parser.add_argument("--ping", type=float, default=25.0, help="ping interval, 0: never")
    parser.add_argument("--room-prefix", default="bench")
    parser.add_argument("--compression", action="store_true", help="offer permessage-deflate")
    parser.add_argument("--server-pid", type=int, action="append", help="report its CPU use")
    parser.add_argument("--cpu", type=int, help="pin the generator to this core")
    parser.add_argument("--out", help="write the JSON report here")
    args = parser.parse_args()
    args.url = args.url or ["ws://127.0.0.1:8000"]
    args.rate = args.rate or [1000.0]
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    report = asyncio.run(run_cli(args))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
