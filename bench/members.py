"""Make every user a member of the rooms <prefix>_r0 .. <prefix>_r(N-1) (the members scenario).

Each message then also goes out as `activity` to every member's socket in the
other rooms. Run in the harness's environment (its DATABASE_URL).
"""

import argparse
import os


def make_members(prefix: str, rooms: int) -> int:
    """Create the rooms and a membership of every user in each; the number of memberships."""
    from django.contrib.auth import get_user_model

    from chat.models import Membership, Room

    user_ids = list(get_user_model().objects.values_list("pk", flat=True))
    made = 0
    for index in range(rooms):
        room, _ = Room.objects.get_or_create(name=f"{prefix}_r{index}")
        Membership.objects.bulk_create(
            [Membership(user_id=user_id, room=room) for user_id in user_ids],
            ignore_conflicts=True,
            batch_size=1000,
        )
        made += len(user_ids)
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--rooms", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jabber.settings")
    import django

    django.setup()
    print(make_members(args.prefix, args.rooms))


if __name__ == "__main__":
    main()
