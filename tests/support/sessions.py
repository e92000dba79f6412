"""Logged-in sessions minted without the login form: for tests, real servers and the benchmark.

In-process tests call :func:`login_session`; the benchmark calls
:func:`login_sessions` for thousands of users at once. Real-server tests run
this module in a subprocess against the server's database (through
``tests.support.clients.create_user_sessions``): ``python -m
tests.support.sessions`` reads a JSON list on stdin, ``[{"username": "ann",
"password": "pw", "staff": false, "superuser": false, "groups":
["Moderators"]}]``, and prints a JSON list of ``{"user_id", "username",
"session"}`` in the same order. None of them goes through the login rate limit.
"""

import json
import os
import sys
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

BACKEND = "django.contrib.auth.backends.ModelBackend"


def session_data(user) -> dict[str, str]:
    """What ``django.contrib.auth.login`` stores in the session of ``user``."""
    return {
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: BACKEND,
        HASH_SESSION_KEY: user.get_session_auth_hash(),
    }


def login_session(user) -> str:
    """Save a session in which ``user`` is logged in; return its key (the ``sessionid`` cookie)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store.update(session_data(user))
    store.create()
    return store.session_key


def login_sessions(users) -> list[str]:
    """Save a logged-in session for each of ``users`` in one bulk insert; return their keys.

    Writes the database session table directly, which the database session
    engine (the default) reads.
    """
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    store = SessionStore()
    expire = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    rows = [
        Session(
            session_key=get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789"),
            session_data=store.encode(session_data(user)),
            expire_date=expire,
        )
        for user in users
    ]
    Session.objects.bulk_create(rows, batch_size=500)
    return [row.session_key for row in rows]


def make_session(spec: dict) -> dict:
    """Create or update one user as ``spec`` says and return a new session key for them."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=spec["username"])
    user.set_password(spec["password"])
    user.is_staff = bool(spec.get("staff") or spec.get("superuser"))
    user.is_superuser = bool(spec.get("superuser"))
    user.save()
    for name in spec.get("groups", []):
        # A missing group is a bug in the migrations that should create it.
        user.groups.add(Group.objects.get(name=name))
    return {"user_id": user.pk, "username": user.get_username(), "session": login_session(user)}


def main() -> None:
    """Read user specs from stdin, create them, print their sessions."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jabber.settings")
    import django

    django.setup()
    specs = json.load(sys.stdin)
    json.dump([make_session(spec) for spec in specs], sys.stdout)


if __name__ == "__main__":
    main()
