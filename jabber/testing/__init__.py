"""Test helpers shared by every app: real Redis, PostgreSQL, servers, clients, browser.

The pytest fixtures that wrap them live in the top-level ``conftest.py``.
"""

from jabber.testing.clients import (
    FrameTimeout,
    UserSession,
    UserSpec,
    create_user_session,
    create_user_sessions,
    frames_before_pong,
    recv_frame,
    recv_until,
    run_async,
    ws_connect,
)
from jabber.testing.services import (
    PostgresServer,
    RedisServer,
    ServerProcess,
    ServiceError,
    app_env,
    free_port,
    migrate,
    require,
    run_manage,
    sqlite_url,
)

__all__ = [
    "FrameTimeout",
    "PostgresServer",
    "RedisServer",
    "ServerProcess",
    "ServiceError",
    "UserSession",
    "UserSpec",
    "app_env",
    "create_user_session",
    "create_user_sessions",
    "frames_before_pong",
    "free_port",
    "migrate",
    "recv_frame",
    "recv_until",
    "require",
    "run_async",
    "run_manage",
    "sqlite_url",
    "ws_connect",
]
