"""Bulk-create benchmark users with logged-in sessions, without password hashing.

Run as ``python -m bench.users --count 2000 --out sessions.json`` with DATABASE_URL
pointing at a migrated database. Prints nothing; writes a JSON list of
``{"user_id", "username", "session"}``. Thousands of users take a few seconds.
"""

import argparse
import json
import os
from pathlib import Path


def create_sessions(count: int, prefix: str = "bench") -> list[dict]:
    """Ensure users prefix0..prefixN-1 exist and return a fresh session for each."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from tests.support.sessions import login_sessions

    user_model = get_user_model()
    names = [f"{prefix}{index}" for index in range(count)]
    with transaction.atomic():
        existing = set(
            user_model.objects.filter(username__in=names).values_list("username", flat=True)
        )
        # One unusable password shared by all: make_password(None) skips the hasher.
        unusable = make_password(None)
        user_model.objects.bulk_create(
            [
                user_model(username=name, password=unusable)
                for name in names
                if name not in existing
            ],
            batch_size=500,
        )
        by_name = {user.username: user for user in user_model.objects.filter(username__in=names)}
        users = [by_name[name] for name in names]
        keys = login_sessions(users)
    return [
        {"user_id": user.pk, "username": user.username, "session": key}
        for user, key in zip(users, keys, strict=True)
    ]


def seed_rooms(prefix: str, rooms: int, messages: int, author: str) -> None:
    """Create rooms prefix_r0.. with `messages` messages each, for scrollback and resumes."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from chat.models import Message, Room

    user = get_user_model().objects.get(username=author)
    now = timezone.now()
    with transaction.atomic():
        for index in range(rooms):
            room, _ = Room.objects.get_or_create(name=f"{prefix}_r{index}")
            start = room.last_seq
            Message.objects.bulk_create(
                [
                    Message(room=room, user=user, seq=start + seq, body=f"seed {seq}", created=now)
                    for seq in range(1, messages + 1)
                ],
                batch_size=500,
            )
            Room.objects.filter(pk=room.pk).update(last_seq=start + messages)


def main() -> None:
    """Parse arguments, create the users and sessions, write them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed-prefix", help="also create rooms <prefix>_r0.. with messages")
    parser.add_argument("--seed-rooms", type=int, default=0)
    parser.add_argument("--seed-messages", type=int, default=100)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jabber.settings")
    import django

    django.setup()
    sessions = create_sessions(args.count, args.prefix)
    if args.seed_prefix and args.seed_rooms:
        seed_rooms(args.seed_prefix, args.seed_rooms, args.seed_messages, sessions[0]["username"])
    args.out.write_text(json.dumps(sessions))


if __name__ == "__main__":
    main()
