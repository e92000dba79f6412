"""Every state change of the chat, one module per topic, called by the consumer, admin and tests.

``messages`` (send, edit, delete), ``reactions``, ``handshake`` (admitting and opening sockets),
``moderation`` (bans, mutes, the admin log), ``rooms``, ``members`` (members, room
moderators, invite links), ``direct`` (direct messages), ``reports``, ``limits`` (rate limits)
and ``errors`` (the one error type). Functions return data and raise
``ChatError`` with a protocol error code; the callers turn that into frames or pages.
"""

from chat.services.direct import direct_peer_ids, open_direct
from chat.services.errors import ChatError, settle
from chat.services.handshake import (
    Admission,
    Opened,
    OpenRequest,
    admit,
    admit_many,
    open_sockets,
)
from chat.services.limits import direct_bucket, join_bucket, send_bucket, should_relay_typing
from chat.services.members import (
    add_member,
    invite_token,
    join_by_invite,
    remove_member,
    revoke_invites,
    set_room_moderator,
    user_named,
)
from chat.services.messages import (
    SendRequest,
    SendResult,
    clean_body,
    delete_message,
    delete_messages,
    edit_message,
    room_frame,
    send_message,
    send_messages,
)
from chat.services.moderation import (
    MODERATE_PERMISSION,
    ban_detail,
    ban_error,
    ban_user,
    impose,
    is_moderator,
    is_room_moderator,
    log_action,
    mute_user,
)
from chat.services.reactions import ReactionResult, is_one_emoji, react
from chat.services.reports import moderator_ids, report_message, resolve_reports
from chat.services.room_moderation import moderate_room
from chat.services.rooms import (
    create_room,
    get_or_create_room,
    join_rooms,
    room_latest_seq,
    set_room_locked,
    set_room_text,
    set_slow_mode,
    visit_room,
    visit_rooms,
)

__all__ = [
    "MODERATE_PERMISSION",
    "Admission",
    "ChatError",
    "OpenRequest",
    "Opened",
    "ReactionResult",
    "SendRequest",
    "SendResult",
    "add_member",
    "admit",
    "admit_many",
    "ban_detail",
    "ban_error",
    "ban_user",
    "clean_body",
    "create_room",
    "delete_message",
    "delete_messages",
    "direct_bucket",
    "direct_peer_ids",
    "edit_message",
    "get_or_create_room",
    "impose",
    "invite_token",
    "is_moderator",
    "is_one_emoji",
    "is_room_moderator",
    "join_bucket",
    "join_by_invite",
    "join_rooms",
    "log_action",
    "moderate_room",
    "moderator_ids",
    "mute_user",
    "open_direct",
    "open_sockets",
    "react",
    "remove_member",
    "report_message",
    "resolve_reports",
    "revoke_invites",
    "room_frame",
    "room_latest_seq",
    "send_bucket",
    "send_message",
    "send_messages",
    "set_room_locked",
    "set_room_moderator",
    "set_room_text",
    "set_slow_mode",
    "settle",
    "should_relay_typing",
    "user_named",
    "visit_room",
    "visit_rooms",
]
