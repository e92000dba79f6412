"""Benchmark harness: start each server on core 0, drive it from core 1, print a table.

``python -m bench.run --standard`` runs the standard set (a few minutes): the
fan-out ladders (10 rooms x 50 and 1 room x 500), p99 at 1,000 deliveries/s,
2,000 idle sockets' memory and a 2,000-client reconnect storm, for Jabber and
both reference servers. Other flags run single scenarios; see ``--help``.
Results are also written as JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.loadgen import (
    CpuSample,
    LoadGenerator,
    Scenario,
    StepResult,
    Target,
    raise_file_limit,
)
from tests.support.services import RedisServer, ServerProcess, app_env, migrate, sqlite_url

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"
PYTHON = sys.executable

SERVER_CORE = 0
GENERATOR_CORE = 1

# Offered deliveries/s, lowest first; a ladder stops at the first step that fails
# the loosest bound, so slow servers take few steps.
LADDER = [500, 1000, 2000, 4000, 8000, 16000, 24000, 32000, 40000, 48000, 64000]
BOUNDS_MS = [100.0, 500.0]

# Jabber's limits, raised so the benchmark measures fan-out, not the rate limiter.
JABBER_BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "jabber.settings",
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "bench-only-secret-key",
    "JABBER_RATE_BURST": "1000000",
    "JABBER_RATE_PER_SECOND": "1000000",
    "JABBER_JOIN_BURST": "1000000",
    "JABBER_JOIN_PER_SECOND": "1000000",
    "JABBER_MAX_SOCKETS_PER_USER": "1000",
    "JABBER_FRAME_BURST": "1000000",
    "JABBER_FRAME_PER_SECOND": "1000000",
    "JABBER_ROOM_CREATE_RATE": "1000000",
    "JABBER_LOG_LEVEL": "WARNING",
}


@dataclass(frozen=True)
class ServerKind:
    """How to start one kind of server."""

    name: str
    label: str
    jabber: bool
    redis: bool = False
    # For Jabber: the test servers' kind, i.e. which server `manage.py serve` runs.
    serves: str = ""

    def command(self, port: int) -> list[str]:
        """The command line of a reference server serving on 127.0.0.1:port."""
        if self.name == "websockets":
            return [PYTHON, "-m", "bench.baselines.ws_server", "--port", str(port)]
        # As docs/deploy.md runs daphne: uvicorn's listen backlog (daphne's default
        # is 50, and a reconnect storm overflows it) and 30 s to finish a handshake.
        return [
            PYTHON, "-m", "daphne", "-e", f"tcp:port={port}:interface=127.0.0.1:backlog=2048",
            "--websocket_connect_timeout", "30", "bench.baselines.tutorial.asgi:application",
        ]  # fmt: skip


SERVERS = {
    kind.name: kind
    for kind in (
        ServerKind("jabber", "Jabber (daphne)", jabber=True, serves="daphne"),
        ServerKind("jabber-uvicorn", "Jabber (uvicorn)", jabber=True, serves="uvicorn-websockets"),
        ServerKind(
            "jabber-uvicorn-sansio",
            "Jabber (uvicorn, websockets-sansio)",
            jabber=True,
            serves="uvicorn-sansio",
        ),
        ServerKind("tutorial", "Channels tutorial (daphne, in-memory)", jabber=False),
        ServerKind("tutorial-redis", "Channels tutorial (daphne, Redis)", jabber=False, redis=True),
        ServerKind("websockets", "bare websockets", jabber=False),
        ServerKind(
            "jabber-redis", "Jabber (daphne, Redis)", jabber=True, redis=True, serves="daphne"
        ),
    )
}


def log(text: str) -> None:
    """Progress on stderr, so stdout carries only the table."""
    print(text, file=sys.stderr, flush=True)


def rss_kib(pid: int) -> int:
    """Resident memory of a process, VmRSS from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@dataclass
class Bench:
    """Shared state of one harness run: work directory, Jabber database and sessions."""

    workdir: Path
    logdir: Path
    step_seconds: float = 3.0
    warmup_seconds: float = 1.0
    drain_seconds: float = 2.0
    ladder: list[int] = field(default_factory=lambda: list(LADDER))
    bounds: list[float] = field(default_factory=lambda: list(BOUNDS_MS))
    refine: int = 0
    markdown: bool = False
    jabber_env: dict[str, str] = field(default_factory=dict)
    sessions: list[str] = field(default_factory=list)
    redis: RedisServer | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    # A step that fails while other processes use more than this many cores is repeated.
    noise_limit: float = 0.3
    noise_retries: int = 1
    retries: int = 1
    idle_concurrency: int = 20

    def prepare_jabber(self, users: int) -> None:
        """Migrate a fresh SQLite database and create users, sessions and seeded rooms."""
        database = self.workdir / "db.sqlite3"
        # The environment of the test servers (the same secret key signs the
        # sessions created here and reads them in the servers), plus the bench's.
        env = app_env({**JABBER_BENCH_ENV, "DATABASE_URL": sqlite_url(database), **self.extra_env})
        started = time.monotonic()
        migrate(env)
        out = self.workdir / "sessions.json"
        subprocess.run(
            [PYTHON, "-m", "bench.users", "--count", str(users), "--out", str(out),
             "--seed-prefix", "idle", "--seed-rooms", "20", "--seed-messages", "100"],
            cwd=REPO_ROOT, env=env, check=True, timeout=300,
        )  # fmt: skip
        self.sessions = [row["session"] for row in json.loads(out.read_text())]
        self.jabber_env = env
        log(f"jabber database ready: {users} users in {time.monotonic() - started:.1f} s")

    def env_for(self, kind: ServerKind) -> dict[str, str]:
        """The environment of a server process of this kind."""
        if kind.jabber:
            env = dict(self.jabber_env)
        else:
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.baselines.tutorial.settings"}
            env.pop("REDIS_URL", None)
        if kind.redis:
            if self.redis is None:
                self.redis = RedisServer(core=GENERATOR_CORE).start()
            env["REDIS_URL"] = self.redis.url
        return env

    def start(self, kind: ServerKind, core: int = SERVER_CORE) -> ServerProcess:
        """Start a server of this kind pinned to ``core``; Jabber as `manage.py serve` runs it."""
        env, options = self.env_for(kind), {"log_dir": self.logdir, "core": core}
        if kind.jabber:
            return ServerProcess(env, kind.serves, startup_timeout=60.0, **options).start()
        server = ServerProcess(
            env, kind.name, command=kind.command, startup_timeout=60.0, **options
        )
        # A reference server has no /healthz: any HTTP answer means it is up.
        return server.start(healthy=False)

    def target(self, kind: ServerKind, servers: list[ServerProcess], first_user: int = 0) -> Target:
        """How the generator reaches these servers and logs in."""
        sessions = self.sessions[first_user:] if kind.jabber else None
        return Target(
            urls=[server.ws_url for server in servers], origin=servers[0].url, sessions=sessions
        )

    def make_members(self, prefix: str, rooms: int) -> None:
        """Make every user a member of every room of a topology (before its servers start)."""
        subprocess.run(
            [PYTHON, "-m", "bench.members", "--prefix", prefix, "--rooms", str(rooms)],
            cwd=REPO_ROOT, env=self.jabber_env, check=True, timeout=300,
        )  # fmt: skip

    async def fanout(
        self,
        kind: ServerKind,
        rooms: int,
        clients: int,
        processes: int = 1,
        cores: str = "0",
        members: bool = False,
    ) -> dict:
        """The step ladder for one topology, on fresh server process(es).

        `members`: every user is a member of every room, so each message also goes
        out as `activity` to the sockets in the other rooms.
        """
        core_list = [int(core) for core in cores.split(",")]
        prefix = f"f{rooms}x{clients}" + ("m" if members else "")
        if members:
            self.make_members(prefix, rooms)
        servers = [self.start(kind, core_list[i % len(core_list)]) for i in range(processes)]
        try:
            scenario = Scenario(
                rooms=rooms, clients_per_room=clients, room_prefix=prefix, markdown=self.markdown
            )
            generator = LoadGenerator(self.target(kind, servers), scenario)
            opened = await generator.open()
            settle = await generator.settle()
            log(f"  {kind.name} {rooms}x{clients}: opened {opened['opened']}/{opened['clients']}"
                f" in {opened['seconds']} s, settled in {settle:.1f} s")  # fmt: skip
            steps = await self.ladder_steps(generator, [server.pid for server in servers])
            await generator.close()
        finally:
            for server in servers:
                server.stop()
        return {
            "server": kind.name,
            "rooms": rooms,
            "clients_per_room": clients,
            "processes": processes,
            "cores": cores,
            "members": members,
            "open": opened,
            "steps": [step.as_dict() for step in steps],
            "held": {str(int(bound)): held_rate(steps, bound) for bound in self.bounds},
            # Held at the top of the ladder, or with the generator's core full: the
            # server may do more than this generator can show.
            "held_is_floor": {
                str(int(bound)): any(
                    step.offered == held_rate(steps, bound)
                    and (step.generator_bound or step.offered >= max(self.ladder))
                    for step in steps
                )
                for bound in self.bounds
            },
        }

    async def ladder_steps(self, generator: LoadGenerator, pids: list[int]) -> list[StepResult]:
        """Run the ladder until a step fails the loosest bound, then refine the first bound."""
        steps: list[StepResult] = []

        async def step(rate: float) -> StepResult:
            # A failed step is tried again (once, or more while other processes were
            # busy): at low rates a window holds few messages, so one pause decides p99.
            attempts: list[StepResult] = []
            while True:
                await wait_for_quiet(self.noise_limit)
                result = await generator.step(
                    rate,
                    duration=self.step_seconds,
                    warmup=self.warmup_seconds,
                    drain=self.drain_seconds,
                    server_pids=pids,
                )
                attempts.append(result)
                log(f"    {result.summary()}")
                await generator.settle(quiet=0.5, timeout=10)
                noisy = result.other_cpu > self.noise_limit
                if result.held(self.bounds[0]) or len(attempts) > self.retries + (
                    self.noise_retries if noisy else 0
                ):
                    break
                log(
                    "    (not held: repeating the step once" + (", machine busy)" if noisy else ")")
                )
            result.attempts = len(attempts)
            steps.append(result)
            return result

        for rate in self.ladder:
            result = await step(rate)
            if not result.held(max(self.bounds)):
                break
        bound = self.bounds[0]
        for _ in range(self.refine):
            held = held_rate(steps, bound)
            failed = [s.offered for s in steps if s.offered > held and not s.held(bound)]
            if not failed:
                break
            low, high = held, min(failed)
            if high - low <= max(50.0, 0.05 * high):
                break
            await step(round((low + high) / 2, -1))
        return steps

    async def idle(self, kind: ServerKind, sockets: int, rooms: int, reconnect: bool) -> dict:
        """Memory per idle socket, then (optionally) every client reconnecting at once."""
        server = self.start(kind)
        try:
            warm = LoadGenerator(
                self.target(kind, [server], first_user=sockets),
                Scenario(rooms=1, clients_per_room=20, room_prefix="warm"),
            )
            await warm.open()
            await warm.settle(quiet=1.0)
            before = rss_kib(server.pid)
            generator = LoadGenerator(
                self.target(kind, [server]),
                Scenario(rooms=rooms, clients_per_room=sockets // rooms, room_prefix="idle"),
            )
            # Few at a time: daphne drops a socket its application has not accepted in 5 s.
            opened = await generator.open(concurrency=self.idle_concurrency, timeout=30)
            await generator.settle(quiet=2.0)
            after = rss_kib(server.pid)
            result = {
                "server": kind.name,
                "sockets": opened["opened"],
                "rooms": rooms,
                "open": opened,
                "rss_before_kib": before,
                "rss_after_kib": after,
                "kib_per_socket": round((after - before) / max(1, opened["opened"]), 2),
            }
            log(f"  {kind.name} idle: {opened['opened']} sockets in {opened['seconds']} s,"
                f" RSS {before} -> {after} KiB, {result['kib_per_socket']} KiB/socket")  # fmt: skip
            if reconnect:
                before_cpu = CpuSample.take([server.pid])
                storm = await generator.reconnect_storm()
                storm["cpu"] = asdict(CpuSample.take([server.pid]).since(before_cpu))
                result["reconnect"] = storm
                log(f"  {kind.name} reconnect: {storm['hello']}/{storm['clients']} hello,"
                    f" max {storm['max_s']} s, failures {storm['failures']}")  # fmt: skip
            await generator.close()
            await warm.close()
        finally:
            server.stop()
        return result

    def close(self) -> None:
        """Stop Redis if this run started it."""
        if self.redis is not None:
            self.redis.close()


def held_rate(steps: list[StepResult], bound_ms: float) -> float:
    """The highest offered rate held, below the lowest rate that was not held."""
    failed = [step.offered for step in steps if not step.held(bound_ms)]
    ceiling = min(failed) if failed else float("inf")
    held = [step.offered for step in steps if step.held(bound_ms) and step.offered < ceiling]
    return max(held) if held else 0.0


def step_at(fanout: dict, rate: float) -> dict | None:
    """The step of a ladder that offered exactly `rate`."""
    for step in fanout["steps"]:
        if step["offered"] == rate:
            return step
    return None


def machine() -> dict:
    """What this ran on."""
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load_before": os.getloadavg(),
    }


async def wait_for_quiet(limit: float, timeout: float = 10.0) -> float:
    """Wait (bounded) until other processes use at most `limit` cores; return their use."""
    deadline = time.monotonic() + timeout
    while True:
        before = CpuSample.take([])
        await asyncio.sleep(0.5)
        other = CpuSample.take([]).since(before).other
        if other <= limit or time.monotonic() > deadline:
            return other


def machine_noise(seconds: float = 1.0) -> float:
    """Cores busy over a short quiet sample (other jobs make results unreliable)."""
    before = CpuSample.take([])
    time.sleep(seconds)
    return CpuSample.take([]).since(before).other


def render_table(report: dict) -> str:
    """The markdown table of a run: one row per server."""
    fanouts = report.get("fanout", [])
    idles = {row["server"]: row for row in report.get("idle", [])}
    names = []
    for row in fanouts + list(idles.values()):
        if row["server"] not in names:
            names.append(row["server"])
    lines = [
        "| server | 10x50 held/s (p99<=100 ms) | 1x500 held/s (p99<=100 ms) "
        "| 10x50 held/s (p99<=500 ms) | p99 at 1,000/s (10x50) | idle KiB/socket "
        "| reconnect: all hello in |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def held(name: str, rooms: int, bound: str) -> str:
        for row in fanouts:
            if (
                row["server"] == name
                and row["rooms"] == rooms
                and row["processes"] == 1
                and not row.get("members")
            ):
                floor = ">= " if row.get("held_is_floor", {}).get(bound) else ""
                return f"{floor}{row['held'].get(bound, 0):,.0f}"
        return "-"

    for name in names:
        p99 = "-"
        for row in fanouts:
            if (
                row["server"] == name
                and row["rooms"] == 10
                and row["processes"] == 1
                and not row.get("members")
            ):
                step = step_at(row, 1000)
                if step is not None:
                    p99 = f"{step['p99_ms']:.1f} ms" + ("" if step["loss"] == 0 else " (loss)")
        idle = idles.get(name)
        memory = f"{idle['kib_per_socket']:.1f}" if idle else "-"
        if idle and idle["sockets"] < idle["open"]["clients"]:
            memory += f" ({idle['sockets']}/{idle['open']['clients']} opened)"
        storm = "-"
        if idle and "reconnect" in idle:
            row = idle["reconnect"]
            storm = f"{row['hello_within_10s']}/{row['clients']} in 10 s"
            if row["hello"] == row["clients"]:
                storm = f"{row['max_s']} s ({row['hello']}/{row['clients']})"
        label = SERVERS[name].label if name in SERVERS else name
        lines.append(
            f"| {label} | {held(name, 10, '100')} | {held(name, 1, '100')} "
            f"| {held(name, 10, '500')} | {p99} | {memory} | {storm} |"
        )
    for row in fanouts:
        if row["processes"] > 1:
            lines.append(
                f"| {SERVERS[row['server']].label} x{row['processes']} (cores {row['cores']}) "
                f"| {row['held'].get('100', 0):,.0f} | - | {row['held'].get('500', 0):,.0f} "
                "| - | - | - |"
            )
        elif row.get("members"):
            step = step_at(row, 1000)
            p99 = "-" if step is None else f"{step['p99_ms']:.1f} ms"
            lines.append(
                f"| {SERVERS[row['server']].label}, everyone in every room (+activity) "
                f"| {row['held'].get('100', 0):,.0f} | - | {row['held'].get('500', 0):,.0f} "
                f"| {p99} | - | - |"
            )
    return "\n".join(lines)


def idle_targets(label: str, idle: dict, tutorial: dict | None) -> list[str]:
    """The idle-memory and reconnect-storm targets for one Jabber server."""
    lines = []
    if tutorial and tutorial["kib_per_socket"] > 0:
        ratio = idle["kib_per_socket"] / tutorial["kib_per_socket"]
        lines.append(
            f"- {label}, idle memory: {idle['kib_per_socket']:.1f} KiB/socket = {ratio:.2f}x the"
            f" tutorial's {tutorial['kib_per_socket']:.1f} ({idle['sockets']} sockets open);"
            f" target <= 1.2x: {'met' if ratio <= 1.2 else 'NOT met'}"
        )
    if "reconnect" in idle:
        storm = idle["reconnect"]
        ok = storm["hello_within_10s"] == storm["clients"] == idle["sockets"]
        lines.append(
            f"- {label}, reconnect storm: {storm['hello_within_10s']}/{storm['clients']} got"
            f" hello within 10 s ({storm['hello']} within {storm['timeout_s']} s, the last after"
            f" {storm['max_s']} s); target all within 10 s: {'met' if ok else 'NOT met'}"
        )
    return lines


def render_targets(report: dict) -> str:
    """Each target of the performance issue, met or not, with the measured figure."""
    fanouts = report.get("fanout", [])
    idles = {row["server"]: row for row in report.get("idle", [])}

    def ladder(name: str, rooms: int, processes: int = 1) -> dict | None:
        for row in fanouts:
            if row["server"] == name and row["rooms"] == rooms and row["processes"] == processes:
                return row
        return None

    def held(name: str, rooms: int, processes: int = 1) -> float | None:
        row = ladder(name, rooms, processes)
        return row["held"]["100"] if row else None

    def per_core(name: str, rooms: int) -> float | None:
        """Held deliveries/s per core of server CPU at that step."""
        row = ladder(name, rooms)
        step = row and row["held"]["100"] and step_at(row, row["held"]["100"])
        return step["achieved"] / step["server_cpu"] if step and step["server_cpu"] else None

    single = [name for name, kind in SERVERS.items() if kind.jabber and not kind.redis]
    lines = []
    for name, rooms, label in (
        (name, rooms, label)
        for name in single
        for rooms, label in ((10, "10 rooms x 50"), (1, "1 room x 500"))
    ):
        jabber, bare = held(name, rooms), held("websockets", rooms)
        if jabber is not None and bare:
            ratio = jabber / bare
            line = (
                f"- {label}: {SERVERS[name].label} holds {jabber:,.0f}/s = {ratio:.2f}x"
                f" bare websockets ({bare:,.0f}/s, a floor when the generator was the limit);"
                f" target >= 0.5x: {'met' if ratio >= 0.5 else 'NOT met'}"
            )
            mine, theirs = per_core(name, rooms), per_core("websockets", rooms)
            if mine and theirs:
                line += (
                    f". Per core of server CPU at those steps: {mine:,.0f}/s vs"
                    f" {theirs:,.0f}/s = {mine / theirs:.2f}x"
                )
            lines.append(line)
    for row in fanouts:
        if row["server"].startswith("jabber") and row["rooms"] == 10 and row["processes"] == 1:
            step = step_at(row, 1000)
            if step is not None:
                ok = step["p99_ms"] <= 20 and step["loss"] == 0
                lines.append(
                    f"- {SERVERS[row['server']].label}, p99 at 1,000 deliveries/s (10x50):"
                    f" {step['p99_ms']:.1f} ms; target <= 20 ms: "
                    f"{'met' if ok else 'NOT met'}"
                )
    tutorial_idle = idles.get("tutorial")
    for name in single:
        if name in idles:
            lines += idle_targets(SERVERS[name].label, idles[name], tutorial_idle)
    one, two = held("jabber-redis", 10, 1), held("jabber-redis", 10, 2)
    if one and two is not None:
        lines.append(
            f"- Redis, two processes: {two:,.0f}/s vs one {one:,.0f}/s = {two / one:.2f}x;"
            f" target >= 1.6x: {'met' if two / one >= 1.6 else 'NOT met'}"
        )
    return "\n".join(lines)


async def run(args: argparse.Namespace, bench: Bench) -> dict:
    """Run the selected scenarios and collect their results."""
    report: dict = {"machine": machine(), "args": vars(args), "fanout": [], "idle": []}
    noise = machine_noise()
    report["machine"]["noise_cores"] = noise
    if noise > 0.2:
        log(f"WARNING: other processes use {noise:.2f} cores; results will be noisy")
    servers = [SERVERS[name] for name in args.servers]
    topologies = [tuple(int(n) for n in t.split("x")) for t in args.topology]
    if any(kind.jabber for kind in servers) or args.redis:
        bench.prepare_jabber(max(args.idle_sockets + 50, 600))
    for kind in servers:
        for rooms, clients in topologies:
            log(f"fan-out: {kind.label}, {rooms} rooms x {clients}")
            report["fanout"].append(await bench.fanout(kind, rooms, clients))
        if args.members and kind.jabber:
            log(f"fan-out: {kind.label}, 10 rooms x 50, every user a member of every room")
            report["fanout"].append(await bench.fanout(kind, 10, 50, members=True))
        if args.idle:
            log(f"idle: {kind.label}, {args.idle_sockets} sockets")
            reconnect = args.reconnect and kind.name != "websockets"
            report["idle"].append(
                await bench.idle(kind, args.idle_sockets, args.idle_rooms, reconnect)
            )
    if args.redis:
        kind = SERVERS["jabber-redis"]
        for processes in (1, 2):
            log(f"redis: {processes} Jabber process(es) on cores {args.redis_cores}")
            report["fanout"].append(
                await bench.fanout(kind, 10, 50, processes=processes, cores=args.redis_cores)
            )
    return report


def parse_env(pairs: list[str]) -> dict[str, str]:
    """NAME=VALUE strings as a dict."""
    env = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator:
            raise SystemExit(f"--env needs NAME=VALUE, not {pair!r}")
        env[name] = value
    return env


def main() -> None:
    """Parse flags, run, print the table, save the JSON."""
    # The harness reads Jabber's settings too (the servers' frame limit), which refuse to
    # load without a key: the servers' own.
    os.environ.setdefault("DJANGO_SECRET_KEY", JABBER_BENCH_ENV["DJANGO_SECRET_KEY"])
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--standard", action="store_true", help="the standard set (~6 minutes)")
    parser.add_argument("--servers", nargs="+", choices=sorted(SERVERS), help="servers to measure")
    parser.add_argument(
        "--topology", nargs="*", help="ROOMSxCLIENTS fan-out ladders (default 10x50 1x500)"
    )
    parser.add_argument(
        "--members", action="store_true", help="also 10x50 with every user in every room"
    )
    parser.add_argument("--idle", action="store_true", help="idle-socket memory")
    parser.add_argument("--reconnect", action="store_true", help="reconnect storm (with --idle)")
    parser.add_argument("--idle-sockets", type=int, default=2000)
    parser.add_argument("--idle-rooms", type=int, default=20)
    parser.add_argument("--redis", action="store_true", help="Jabber on Redis: 1 vs 2 processes")
    parser.add_argument("--redis-cores", default="0", help="cores for the Jabber processes")
    parser.add_argument("--ladder", type=int, nargs="+", help="offered deliveries/s steps")
    parser.add_argument("--step", type=float, default=3.0, help="measured seconds per step")
    parser.add_argument(
        "--markdown",
        action="store_true",
        help="senders send a mix of Markdown bodies (links, code, mentions)",
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds per step")
    parser.add_argument("--bound", type=float, nargs="+", help="p99 bounds in ms (first: primary)")
    parser.add_argument("--refine", type=int, default=0, help="bisection steps after the ladder")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for Jabber (e.g. JABBER_DB_CONN_MAX_AGE=600)",
    )
    parser.add_argument("--plot", type=Path, help="also write the latency plot (PNG) here")
    parser.add_argument("--out", type=Path, help="JSON file (default bench/results/<time>.json)")
    args = parser.parse_args()
    if args.standard:
        # Jabber as production runs it (docs/deploy.md); add "jabber" for daphne.
        args.servers = args.servers or ["websockets", "tutorial", "jabber-uvicorn-sansio"]
        args.idle = args.reconnect = args.members = True
    if args.servers is None:
        args.servers = [] if args.redis else ["jabber-uvicorn-sansio"]
    if args.topology is None:
        args.topology = ["10x50", "1x500"]

    os.sched_setaffinity(0, {GENERATOR_CORE})
    raise_file_limit()
    workdir = Path(tempfile.mkdtemp(prefix="jabber-bench-"))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    logdir = RESULTS_DIR / f"logs-{stamp}"
    logdir.mkdir(parents=True, exist_ok=True)
    bench = Bench(
        workdir=workdir, logdir=logdir, step_seconds=args.step, warmup_seconds=args.warmup
    )
    if args.ladder:
        bench.ladder = sorted(args.ladder)
    if args.bound:
        bench.bounds = args.bound
    bench.refine = args.refine
    bench.markdown = args.markdown
    bench.extra_env = parse_env(args.env)
    started = time.monotonic()
    try:
        report = asyncio.run(run(args, bench))
    finally:
        bench.close()
    report["seconds"] = round(time.monotonic() - started, 1)
    out = args.out or RESULTS_DIR / f"{stamp}.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    shutil.rmtree(workdir, ignore_errors=True)
    if args.plot:
        from bench.plot import plot

        plot(report, args.plot)
    print(render_table(report))
    print()
    print(render_targets(report))
    print(f"\n{report['seconds']} s; results in {out}, server logs in {logdir}")


if __name__ == "__main__":
    main()
