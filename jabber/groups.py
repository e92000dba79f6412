"""Channel-layer group names: one helper per kind, never formatted elsewhere."""


def room_group(room_id: int) -> str:
    """The group every server process's fan-out hub joins for a room it serves."""
    return f"room.{room_id}"


def is_room_group(group: str) -> bool:
    return group.startswith("room.")


def control_group() -> str:
    """The group every server process's hub joins, for events aimed at people, not rooms."""
    return "jabber.control"


def user_group(user_id: int) -> str:
    """The local group of one user's sockets (bans, deactivation) inside each hub."""
    return f"user.{user_id}"


def session_group(session_key: str) -> str:
    """The local group of every socket opened with one login session (closed at logout)."""
    return f"session.{session_key}"


def watch_group(room_id: int) -> str:
    """The local group, inside each hub, of the sockets elsewhere of a room's members (activity)."""
    return f"watch.{room_id}"
