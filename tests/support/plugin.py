"""The project's pytest plugin: hooks and fixtures for real Redis, PostgreSQL, servers, a browser.

The root conftest.py loads it; it loads the fixtures of in-process tests
(``people``: ann, bob, mod, lobby; ``unit``: fake_clock, fresh_cache_and_layer)
and of browser tests (``browser``: browsing, axe_source, with the helpers tests import).

Services that are missing (no redis-server, no PostgreSQL, no Chromium) skip the
tests that need them, or fail them when JABBER_TEST_STRICT=1 (CI sets it).

A real server runs in another process, so Django's ``settings`` fixture cannot
reach it: shorten its timeouts through environment overrides instead, e.g.
``start_server({**sqlite_env, "JABBER_PRESENCE_TIMEOUT": "3"})``.
Tests that use ``browser``/``new_page`` (Playwright's sync API) must be plain
``def`` tests; inside them, drive WebSockets with ``run_async(coroutine)``.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Loaded first, as daphne does before it loads the application: in-process tests stand in
# for both servers, so chat.transport counts autobahn's Disconnected among a departed
# peer's errors whichever test module imports it first.
import autobahn.exception  # noqa: F401
import pytest

# Imported below before pytest registers it as a plugin: have its asserts rewritten all the same.
pytest.register_assert_rewrite("tests.support.browser")

from tests.support.browser import (  # noqa: E402
    launch_chromium,
    logged_in_context,
    playwright_loop,
)
from tests.support.clients import Server  # noqa: E402
from tests.support.services import (  # noqa: E402
    CHROMIUM_BINARY,
    REDIS_BINARY,
    PostgresServer,
    RedisServer,
    ServerProcess,
    migrate,
    postgres_binary,
    postgres_os_user,
    require,
    sqlite_url,
)
from tests.support.stalls import watching_for_stalls  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytest_plugins = ["tests.support.people", "tests.support.unit", "tests.support.browser"]

POSTGRES_TEMPLATE = "jabber_template"
SERVICE_MARKERS = {
    "redis_server": ("live", "redis"),
    "postgres_server": ("live", "postgres"),
    "start_server": ("live",),
    "browser": ("browser",),
}
_database_numbers = itertools.count(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by the services its fixtures start, so ``-m 'not browser'`` works.

    The markers are registered in pyproject.toml.
    """
    for item in items:
        for fixture_name in getattr(item, "fixturenames", ()):
            for marker in SERVICE_MARKERS.get(fixture_name, ()):
                item.add_marker(marker)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember each phase's report on the test so fixtures can tell whether it failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """Let asyncio run in tests that do not use the browser (see ``RunningLoopGuard``)."""
    return (yield from _without_playwright_loop(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Let asyncio run in tests that do not use the browser."""
    return (yield from _without_playwright_loop(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    """Let asyncio run in the teardown of tests that do not use the browser."""
    return (yield from _without_playwright_loop(item))


def _without_playwright_loop(item: pytest.Item) -> Iterator[None]:
    if "browser" in getattr(item, "fixturenames", ()):
        return (yield)
    with playwright_loop.hidden():
        return (yield from watching_for_stalls())


def _test_failed(request: pytest.FixtureRequest) -> bool:
    return any(
        getattr(getattr(request.node, f"report_{phase}", None), "failed", False)
        for phase in ("setup", "call")
    )


# ------------------------------------------------------------------ services


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A redis-server for the whole run: ``.url``, ``.restart()``, ``.flushall()``."""
    require(Path(REDIS_BINARY).exists(), f"{REDIS_BINARY} is not installed")
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster for the whole run; ``.url``, ``.create_database(name)``."""
    require(
        postgres_binary("initdb") and postgres_binary("pg_ctl"),
        "PostgreSQL server programs (initdb, pg_ctl) are not installed",
    )
    require(postgres_os_user(), "no 'postgres' account to run PostgreSQL as while root")
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.close()


# ----------------------------------------------------------------- databases


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Give each run its own SQLite test database file (pytest-django's hook for this).

    One fixed file per checkout would be deleted and re-created under a run by any
    other run started meanwhile (``make test-repeat`` beside a targeted pytest).
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3") and "JABBER_TEST_SQLITE_NAME" not in os.environ:
        test_name = tmp_path_factory.getbasetemp() / "test-db.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(test_name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once per run, copied by ``sqlite_env`` for each test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "db.sqlite3"
    migrate({"DATABASE_URL": sqlite_url(path)})
    return path


@pytest.fixture
def sqlite_env(sqlite_template: Path, tmp_path: Path) -> dict[str, str]:
    """Environment overrides for a server on a fresh, migrated SQLite file and no Redis."""
    path = tmp_path / "db.sqlite3"
    shutil.copyfile(sqlite_template, path)
    # The migrating process closed cleanly, so the WAL is normally checkpointed
    # and gone; copy it if one survived.
    wal = sqlite_template.with_name(sqlite_template.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, path.with_name(path.name + "-wal"))
    return {"DATABASE_URL": sqlite_url(path)}


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """The name of a PostgreSQL database migrated once per run, copied by ``postgres_env``."""
    postgres_server.drop_database(POSTGRES_TEMPLATE)
    migrate({"DATABASE_URL": postgres_server.create_database(POSTGRES_TEMPLATE)})
    return POSTGRES_TEMPLATE


@pytest.fixture
def postgres_env(
    postgres_server: PostgresServer, postgres_template: str
) -> Iterator[dict[str, str]]:
    """Environment overrides for a server on a fresh, migrated PostgreSQL database."""
    name = f"jabber_test_{next(_database_numbers)}"
    url = postgres_server.create_database(name, template=postgres_template)
    yield {"DATABASE_URL": url}
    postgres_server.drop_database(name)


@pytest.fixture
def scaled_env(postgres_env: dict[str, str], redis_server: RedisServer) -> dict[str, str]:
    """Environment overrides for the scaled-out setup (SPEC §8): PostgreSQL plus an empty Redis."""
    redis_server.flushall()
    return {**postgres_env, "REDIS_URL": redis_server.url}


# ------------------------------------------------------------------- servers


@pytest.fixture
def start_server(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., ServerProcess]]:
    """Start Jabber servers: ``start_server(env, kind="daphne", **options)``.

    ``kind`` is one of ``services.SERVER_KINDS`` (daphne, or uvicorn with one of
    its WebSocket implementations), started with ``manage.py serve``'s flags.

    Every server is stopped at teardown; the logs of a failed test's servers are printed.
    """
    servers: list[ServerProcess] = []

    def start(env: Mapping[str, str], kind: str = "daphne", **options: Any) -> ServerProcess:
        server = ServerProcess(env, kind=kind, log_dir=tmp_path / "logs", **options)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
    if _test_failed(request):
        for server in servers:
            print(f"\n--- {server.kind} on port {server.port}: {server.log_path}")
            print(server.log_tail(200))


def production_suite() -> bool:
    """Tell whether this run is the PostgreSQL + Redis suite (``make test-prod``)."""
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


@pytest.fixture
def live_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """Overrides for real servers: ``scaled_env`` in the test-prod suite, else ``sqlite_env``."""
    return request.getfixturevalue("scaled_env" if production_suite() else "sqlite_env")


@pytest.fixture
def shared_env(request: pytest.FixtureRequest, redis_server: RedisServer) -> dict[str, str]:
    """One database and one empty Redis for several processes (PostgreSQL in test-prod)."""
    if production_suite():
        return request.getfixturevalue("scaled_env")
    redis_server.flushall()
    return {**request.getfixturevalue("sqlite_env"), "REDIS_URL": redis_server.url}


@pytest.fixture
def server(start_server: Callable[..., ServerProcess], live_env: dict[str, str]) -> ServerProcess:
    """One daphne server on a fresh database of this suite (see ``live_env``)."""
    return start_server(live_env)


# ------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless system Chromium for the whole run (Playwright's sync API)."""
    require(Path(CHROMIUM_BINARY).exists(), f"{CHROMIUM_BINARY} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright is not installed")
    playwright = sync_playwright().start()
    playwright_loop.capture()
    try:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            playwright_loop.restore()
            browser.close()
    finally:
        playwright_loop.restore()
        playwright.stop()
        playwright_loop.release()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Open pages in fresh contexts: ``new_page(server, session=None)``; closed at teardown."""
    contexts: list[BrowserContext] = []

    def open_page(server: Server, session: str | None = None) -> Page:
        context = logged_in_context(browser, server, session)
        contexts.append(context)
        return context.new_page()

    yield open_page
    playwright_loop.restore()
    for context in contexts:
        context.close()
