"""Read-only queries (STYLE.md: reads in selectors), by topic: history, restrictions, rooms.

Callers import the package (`from chat import selectors`); the names below are its API.
"""

from chat.selectors.history import (  # noqa: F401
    any_before,
    attachments_by_message,
    history_around,
    history_page,
    latest_messages,
    message_payload,
    payloads_after,
    payloads_around,
    payloads_before,
    reactions_by_message,
)
from chat.selectors.restrictions import (  # noqa: F401
    Restrictions,
    active_ban,
    active_bans,
    bans_from_every_room,
    last_message_time,
    last_write_time,
    muted_pairs,
    restrictions_in_force,
)
from chat.selectors.rooms import (  # noqa: F401
    Counted,
    lobby_rooms,
    member_ids_by_name,
    member_names,
    member_room_ids,
    room_entry,
    room_moderator_pairs,
    room_named,
    rooms_counted,
    rooms_for,
    rooms_for_many,
)
