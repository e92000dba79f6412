"""Search benchmark: query times over many messages, and what the index costs a send.

``python -m bench.search query --messages 1000000 --rooms 1000`` fills a fresh
database in bulk (messages of 4-20 words drawn from a Zipf-distributed
vocabulary, by 1,000 users), then times ``search.selectors.search`` (the whole
page: matches, MESSAGE payloads, snippets) for the typical query forms and
prints p50/p95 per form. ``python -m bench.search send`` measures what the
index adds to storing a message (see ``time_sends``), index on and off, alternating.

SQLite by default (a file under --directory); PostgreSQL through
``python -m tests.support.with_services -- python -m bench.search query ...``,
which sets DATABASE_URL to a throwaway cluster.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

SYLLABLES = ["ka", "lo", "ri", "mu", "te", "sa", "pin", "dor", "vek", "pa", "zu", "ne", "fo", "gi"]
VOCABULARY_SIZE = 20_000
USERS = 1_000
CHUNK = 20_000


def word(rank: int) -> str:
    """The vocabulary's word of that frequency rank: pronounceable, unique, stem-stable."""
    syllables = []
    rank += len(SYLLABLES)
    while rank:
        rank, digit = divmod(rank, len(SYLLABLES))
        syllables.append(SYLLABLES[digit])
    return "".join(syllables)


def setup_django(database_url: str | None, directory: Path) -> None:
    if database_url is None:
        os.environ["DATABASE_URL"] = f"sqlite:///{directory / 'search-bench.sqlite3'}"
    # Sends in the send benchmark are not to be refused by the rate limit.
    os.environ.setdefault("JABBER_RATE_BURST", "1000000000")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jabber.settings")
    # Jabber's settings refuse to load without a key; this throwaway database needs none.
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    import django

    django.setup()


def fresh_database() -> None:
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)


def message_rows(count: int, rooms: list[int], users: list[int], seed: int) -> Iterator[tuple]:
    """(room id, user id, seq, text, created) rows, oldest first, ~3 messages a minute."""
    generator = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(VOCABULARY_SIZE)]
    cumulative = list(_accumulate(weights))
    words = [word(rank) for rank in range(VOCABULARY_SIZE)]
    seqs = dict.fromkeys(rooms, 0)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for number in range(count):
        room = generator.choice(rooms)
        seqs[room] += 1
        length = generator.randint(4, 20)
        text = " ".join(generator.choices(words, cum_weights=cumulative, k=length))
        created = start + timedelta(seconds=number * 20)
        yield room, generator.choice(users), seqs[room], text, created


def _accumulate(values: list[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def fill(count: int, room_count: int, seed: int) -> dict:
    """Users, public rooms and `count` messages, stored in bulk with the index built after."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from chat.models import Room
    from search import index

    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"user{n}", password="!") for n in range(USERS)]
    )
    rooms = Room.objects.bulk_create([Room(name=f"room-{n}") for n in range(room_count)])
    user_ids, room_ids = [u.pk for u in users], [r.pk for r in rooms]
    started = time.perf_counter()
    # Like the migration on a database that already holds messages: load, then index.
    index.drop(connection)
    rows = message_rows(count, room_ids, user_ids, seed)
    last_seq: dict[int, int] = {}
    while True:
        chunk = [next(rows, None) for _ in range(CHUNK)]
        chunk = [row for row in chunk if row is not None]
        if not chunk:
            break
        with transaction.atomic():
            _insert(connection, chunk)
        for room, _, seq, _, _ in chunk:
            last_seq[room] = seq
    loaded = time.perf_counter()
    index.create(connection)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    for room, seq in last_seq.items():
        Room.objects.filter(pk=room).update(last_seq=seq)
    indexed = time.perf_counter()
    return {"load_seconds": loaded - started, "index_seconds": indexed - loaded}


def _insert(connection, chunk: list[tuple]) -> None:
    columns = "room_id, user_id, seq, body, html, text, mentions, created"
    data = [
        (room, user, seq, text, f"<p>{text}</p>", text, "[]", created)
        for room, user, seq, text, created in chunk
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY chat_message ({columns}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO chat_message ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                data,
            )


def queries(seed: int, rounds: int, room_count: int) -> dict[str, list[str]]:
    """The typical query forms, each with `rounds` different words, users or rooms."""
    generator = random.Random(seed + 1)

    def pick(top: int) -> str:
        return word(generator.randrange(top))

    return {
        "common word": [word(rank) for rank in range(rounds)],
        "two words": [f"{pick(50)} {pick(500)}" for _ in range(rounds)],
        "phrase": [f'"{pick(10)} {pick(10)}"' for _ in range(rounds)],
        "rare word": [pick(VOCABULARY_SIZE) for _ in range(rounds)],
        "from:": [f"from:user{generator.randrange(USERS)}" for _ in range(rounds)],
        "in:": [f"in:room-{generator.randrange(room_count)}" for _ in range(rounds)],
        "from: + word": [
            f"from:user{generator.randrange(USERS)} {pick(20)}" for _ in range(rounds)
        ],
    }


def time_queries(rounds: int, seed: int, room_count: int) -> dict[str, dict]:
    from django.contrib.auth import get_user_model

    from search import selectors

    searcher = get_user_model().objects.get(username="user0")
    results = {}
    for form, texts in queries(seed, rounds, room_count).items():
        selectors.search(searcher, texts[0])  # warm the caches once per form
        durations, cpu, found = [], [], []
        for text in texts:
            started, started_cpu = time.perf_counter(), time.process_time()
            page = selectors.search(searcher, text)
            durations.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            found.append(len(page.results))
        # CPU time of this process: on a busy machine, what the wall clock would be
        # without waiting for a core (all of SQLite's work; on PostgreSQL only ours).
        if server_times := _server_times(searcher, texts):
            results.setdefault(form, {}).update(
                server_p50_ms=round(statistics.median(server_times), 1),
                server_p95_ms=round(_percentile(server_times, 95), 1),
            )
        results.setdefault(form, {}).update(
            {
                "p50_ms": round(statistics.median(durations), 1),
                "p95_ms": round(_percentile(durations, 95), 1),
                "cpu_p50_ms": round(statistics.median(cpu), 1),
                "cpu_p95_ms": round(_percentile(cpu, 95), 1),
                "max_ms": round(max(durations), 1),
                "mean_results": round(statistics.mean(found), 1),
                "example": texts[0],
            }
        )
    return results


def _server_times(searcher, texts: list[str]) -> list[float]:
    """PostgreSQL only: the server's planning and execution time of each search's
    statements (EXPLAIN ANALYZE of what the search ran), which no other process's
    load on this machine stretches as much as the wall clock."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from search import selectors

    if connection.vendor != "postgresql":
        return []
    times = []
    for text in texts:
        with CaptureQueriesContext(connection) as captured:
            selectors.search(searcher, text)
        total = 0.0
        with connection.cursor() as cursor:
            for query in captured.captured_queries:
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query["sql"])
                (plan,) = cursor.fetchone()[0]
                total += plan["Planning Time"] + plan["Execution Time"]
        times.append(total)
    return times


def _percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))]


def time_sends(messages: int, repeats: int) -> dict:
    """What indexing adds to storing a message, index on and off, alternating.

    `insert_us`: the database's time per row to insert `messages` rows in one
    statement (INSERT ... SELECT, rolled back): the trigger or generated column
    and nothing else. `commit_cpu_us`: CPU time of this process per one-row
    INSERT committed alone (FTS5 writes a segment per commit). `send_cpu_us`: CPU
    time per services.send_messages of one message. On SQLite the index work runs
    in this process; on PostgreSQL in the server, so only `insert_us` sees it.
    """
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from chat import services
    from chat.models import Room
    from search import index

    user = get_user_model().objects.create(username="sender", password="!")
    room = Room.objects.create(name="sends")
    generator = random.Random(7)
    words = [word(rank) for rank in range(2000)]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_text (id integer PRIMARY KEY, text text)")
        cursor.executemany(
            "INSERT INTO bench_text (id, text) VALUES (%s, %s)",
            [(n, " ".join(generator.choices(words, k=12))) for n in range(messages)],
        )

    def insert_rows() -> float:
        with transaction.atomic(), connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(
                "INSERT INTO chat_message (room_id, user_id, seq, body, html, text, mentions, "
                "created) SELECT %s, %s, 1000000 + id, text, text, text, '[]', %s FROM bench_text",
                [room.pk, user.pk, datetime(2026, 1, 1, tzinfo=UTC)],
            )
            elapsed = time.perf_counter() - started
            transaction.set_rollback(True)
        return elapsed / messages * 1e6

    sends = min(messages, 1000)
    seqs = itertools.count(2_000_000)

    def commit_each() -> float:
        started = time.process_time()
        for number in range(sends):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO chat_message (room_id, user_id, seq, body, html, text, mentions, "
                    "created) VALUES (%s, %s, %s, %s, %s, %s, '[]', %s)",
                    [room.pk, user.pk, next(seqs), *[words[number]] * 3, datetime.now(UTC)],
                )
        return (time.process_time() - started) / sends * 1e6

    def send_cpu() -> float:
        started = time.process_time()
        for number in range(sends):
            services.send_messages([services.SendRequest(user, room, f"hello {words[number]}")])
        return (time.process_time() - started) / sends * 1e6

    measures = {"insert_us": insert_rows, "commit_cpu_us": commit_each, "send_cpu_us": send_cpu}
    timings = {(variant, name): [] for variant in ("indexed", "plain") for name in measures}
    variants: list[tuple[str, Callable[[], None]]] = [
        ("indexed", lambda: index.create(connection)),
        ("plain", lambda: index.drop(connection)),
    ]
    for measure in measures.values():
        measure()  # warm up
    for _ in range(repeats):
        for variant, prepare in variants:
            prepare()
            for name, measure in measures.items():
                timings[variant, name].append(measure())
    index.create(connection)
    report: dict = {"messages": messages, "repeats": repeats}
    for name in measures:
        indexed = statistics.median(timings["indexed", name])
        plain = statistics.median(timings["plain", name])
        report[name] = {
            "indexed": round(indexed, 1),
            "plain": round(plain, 1),
            "index_cost": round(indexed - plain, 1),
            "runs": {v: [round(t, 1) for t in timings[v, name]] for v in ("indexed", "plain")},
        }
    return report


def main(arguments: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["query", "send"])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rooms", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=40, help="queries per form")
    parser.add_argument("--repeats", type=int, default=5, help="runs per variant (send)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="query an already filled database")
    parser.add_argument("--directory", type=Path, default=None, help="for the SQLite file")
    options = parser.parse_args(arguments)
    directory = options.directory or Path(tempfile.mkdtemp(prefix="search-bench-"))
    setup_django(os.environ.get("DATABASE_URL"), directory)
    from django.db import connection

    fresh_database()
    report: dict = {"engine": connection.vendor, "mode": options.mode}
    if options.mode == "query":
        report.update(messages=options.messages, rooms=options.rooms, rounds=options.rounds)
        from chat.models import Message

        if not (options.reuse and Message.objects.exists()):
            report["fill"] = fill(options.messages, options.rooms, options.seed)
            print(json.dumps(report), flush=True)
        report["queries"] = time_queries(options.rounds, options.seed, options.rooms)
    else:
        count = options.messages if options.messages < 1_000_000 else 10_000
        report["sends"] = time_sends(count, options.repeats)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
