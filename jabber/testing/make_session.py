"""Create users and logged-in sessions in the database named by DATABASE_URL.

Run as ``python -m jabber.testing.make_session`` with a JSON list on stdin:
``[{"username": "ann", "password": "pw", "staff": false, "superuser": false,
"groups": ["Moderators"]}]``. Prints a JSON list of ``{"user_id", "username",
"session"}`` in the same order. Real-server tests use it (through
``create_user_session``) to log in without the login form and its rate limit.
"""

import json
import os
import sys
from importlib import import_module

BACKEND = "django.contrib.auth.backends.ModelBackend"


def make_session(spec: dict) -> dict:
    """Create or update one user as ``spec`` says and return a new session key for them."""
    from django.conf import settings
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

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store["_auth_user_backend"] = BACKEND
    store["_auth_user_hash"] = user.get_session_auth_hash()
    store.create()
    return {"user_id": user.pk, "username": user.get_username(), "session": store.session_key}


def main() -> None:
    """Read user specs from stdin, create them, print their sessions."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jabber.settings")
    import django

    django.setup()
    specs = json.load(sys.stdin)
    json.dump([make_session(spec) for spec in specs], sys.stdout)


if __name__ == "__main__":
    main()
