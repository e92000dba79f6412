"""Channel-layer group names: one helper per kind, never formatted elsewhere."""


def room_group(room_id: int) -> str:
    """The group every server process's fan-out hub joins for a room it serves."""
    return f"room.{room_id}"


def user_group(user_id: int) -> str:
    """The group every socket of one user joins, for events aimed at that person."""
    return f"user.{user_id}"


def session_group(session_key: str) -> str:
    """The group of every socket opened with one login session (closed at logout)."""
    return f"session.{session_key}"
