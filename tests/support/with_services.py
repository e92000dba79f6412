"""Run a command with a throwaway PostgreSQL and Redis: ``make test-prod``.

``python -m tests.support.with_services -- pytest -q`` starts both on free
loopback ports, runs the command with DATABASE_URL and REDIS_URL pointing at
them, stops both, and exits with the command's status. When a server program
is missing it says so and exits 0, or exits 1 under JABBER_TEST_STRICT=1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.services import (
    REDIS_BINARY,
    PostgresServer,
    RedisServer,
    is_strict,
    postgres_binary,
    postgres_os_user,
)


def missing_programs() -> list[str]:
    """Name what this machine lacks to run PostgreSQL and Redis, if anything."""
    missing = []
    if not Path(REDIS_BINARY).exists():
        missing.append(REDIS_BINARY)
    if not (postgres_binary("initdb") and postgres_binary("pg_ctl")):
        missing.append("PostgreSQL server programs (initdb, pg_ctl)")
    if postgres_os_user() is None:
        missing.append("a 'postgres' account to run PostgreSQL as")
    return missing


def main(arguments: list[str]) -> int:
    """Start the services, run the command after ``--``, stop them; return its exit status."""
    command = arguments[1:] if arguments[:1] == ["--"] else arguments
    if not command:
        print("usage: python -m tests.support.with_services -- COMMAND ...", file=sys.stderr)
        return 2
    missing = missing_programs()
    if missing:
        print(f"with_services: missing {', '.join(missing)}; not running", file=sys.stderr)
        return 1 if is_strict() else 0
    redis = RedisServer()
    postgres = PostgresServer()
    try:
        redis.start()
        postgres.start()
        environment = {**os.environ, "DATABASE_URL": postgres.url, "REDIS_URL": redis.url}
        print(f"with_services: DATABASE_URL={postgres.url} REDIS_URL={redis.url}", flush=True)
        return subprocess.run(command, env=environment, check=False).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        postgres.close()
        redis.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
