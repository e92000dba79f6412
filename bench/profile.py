"""Profile Jabber under a steady fan-out load with py-spy and say where the time goes.

``python -m bench.profile --rate 2000 --seconds 15`` starts Jabber (daphne) on
core 0, opens 10 rooms x 50 clients, offers the rate, records with py-spy, and
prints the busiest functions and a breakdown by subsystem. A flame graph SVG
and the raw stacks land in bench/results/.
"""

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.loadgen import LoadGenerator, Scenario, raise_file_limit
from bench.run import GENERATOR_CORE, JABBER_BENCH_ENV, RESULTS_DIR, SERVERS, Bench, parse_env

# Leaf frames are attributed to the first subsystem whose marker is in the file path.
SUBSYSTEMS = [
    ("sqlite3/base.py", "SQLite driver (queries, commits, connects)"),
    ("django/db/", "Django ORM"),
    ("django/", "Django (other)"),
    ("asgiref/", "asgiref sync<->async handoff"),
    ("channels/layers.py", "channel layer (in-memory)"),
    ("channels_redis/", "channel layer (Redis)"),
    ("channels/", "Channels consumers and middleware"),
    ("autobahn/", "autobahn WebSocket framing (daphne)"),
    ("twisted/", "Twisted transport (daphne)"),
    ("daphne/", "daphne"),
    ("uvicorn/", "uvicorn"),
    ("websockets/", "websockets (uvicorn)"),
    ("json/", "json"),
    ("concurrent/futures/", "thread pool"),
    ("threading.py", "thread pool"),
    ("selectors.py", "event loop (select)"),
    ("asyncio/", "event loop"),
    ("chat/", "Jabber chat app"),
    ("presence/", "Jabber presence app"),
    ("jabber/", "Jabber project"),
]


def subsystem(frame: str) -> str:
    """The subsystem a py-spy frame ("function (path:line)") belongs to."""
    for marker, name in SUBSYSTEMS:
        if marker in frame:
            return name
    return "other"


def summarize(raw: Path, top: int = 25) -> str:
    """A text report from py-spy's raw (collapsed stack) output."""
    leaf: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    groups: Counter[str] = Counter()
    roots: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        leaf[frames[-1]] += count
        groups[subsystem(frames[-1])] += count
        roots["worker thread" if "threading.py" in frames[0] else "event loop thread"] += count
        for frame in set(frames):
            inclusive[frame] += count
    lines = [f"{total} samples (threads holding the GIL)", "", "threads:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in roots.most_common()]
    lines += ["", "by subsystem (leaf frame):"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in groups.most_common()]
    lines += ["", f"top {top} functions by own time:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in leaf.most_common(top)]
    lines += ["", f"top {top * 2} functions by inclusive time:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top * 2)]
    return "\n".join(lines)


async def profile(args: argparse.Namespace, bench: Bench) -> str:
    """Load Jabber, record it, return the summary."""
    bench.prepare_jabber(max(600, args.rooms * args.clients + 50))
    server = bench.start(SERVERS[args.server])
    stamp = time.strftime("%Y%m%d-%H%M%S")
    raw = RESULTS_DIR / f"profile-{args.server}-{stamp}.txt"
    svg = RESULTS_DIR / f"profile-{args.server}-{stamp}.svg"
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    record = [spy, "record", "--pid", str(server.pid), "--rate", "200", "--nonblocking"]
    record += ["--duration", str(int(args.seconds))]
    try:
        generator = LoadGenerator(
            bench.target(SERVERS[args.server], [server]),
            Scenario(
                rooms=args.rooms,
                clients_per_room=args.clients,
                room_prefix="idle" if args.mode == "connect" else "prof",
            ),
        )
        if args.mode == "connect":
            # Profile the sockets opening (the join path), not the messages.
            processes = start_recording(record, raw, svg)
            opened = await generator.open(concurrency=args.concurrency, timeout=args.seconds)
            header = (
                f"{args.server}: opening {args.rooms}x{args.clients} sockets,"
                f" {args.concurrency} at a time: {opened}\n"
            )
        else:
            opened = await generator.open()
            await generator.settle()
            print(f"opened {opened['opened']} in {opened['seconds']} s", file=sys.stderr)
            processes = start_recording(record, raw, svg)
            result = await generator.step(
                args.rate, duration=args.seconds + 1, warmup=1.0, server_pids=[server.pid]
            )
            header = (
                f"{args.server}, {args.rooms}x{args.clients}, offered {args.rate}/s: achieved"
                f" {result.achieved}/s, p50 {result.p50_ms} ms, p99 {result.p99_ms} ms, loss"
                f" {result.loss}, server CPU {result.server_cpu}, other {result.other_cpu}\n"
            )
        for process in processes:
            process.wait(timeout=args.seconds + 60)
        await generator.close()
    finally:
        server.stop()
    return header + f"flame graph: {svg}\n" + summarize(raw)


def start_recording(record: list[str], raw: Path, svg: Path) -> list[subprocess.Popen]:
    """Start py-spy twice: GIL-holding raw stacks (CPU) and a flame graph (all non-idle)."""
    return [
        subprocess.Popen([*record, "--gil", "--format", "raw", "--output", str(raw)]),
        subprocess.Popen([*record, "--format", "flamegraph", "--output", str(svg)]),
    ]


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--server", default="jabber", choices=[n for n, kind in SERVERS.items() if kind.jabber]
    )
    parser.add_argument("--rate", type=float, default=2000.0, help="offered deliveries/s")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--mode", choices=["messages", "connect"], default="messages")
    parser.add_argument("--concurrency", type=int, default=50, help="connect mode: at a time")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--summarize", type=Path, help="only summarize an existing raw file")
    args = parser.parse_args()
    if args.summarize:
        print(summarize(args.summarize))
        return
    # The harness reads Jabber's settings (the servers' frame limit), which need a key.
    os.environ.setdefault("DJANGO_SECRET_KEY", JABBER_BENCH_ENV["DJANGO_SECRET_KEY"])
    os.sched_setaffinity(0, {GENERATOR_CORE})
    raise_file_limit()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="jabber-profile-"))
    bench = Bench(workdir=workdir, logdir=workdir, extra_env=parse_env(args.env))
    try:
        print(asyncio.run(profile(args, bench)))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
