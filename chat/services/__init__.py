"""Every state change of the chat, one module per topic, called by the consumer, admin and tests.

``messages`` (sending), ``editing`` (edits, deletes), ``writing`` (the rules
both obey), ``reactions``, ``enforcement`` (bans, account and session re-checked
where they bite), ``handshake`` (admitting and opening sockets), ``moderation``
(bans, mutes, the admin log), ``rooms``, ``reads`` (read positions, mentions),
``members`` (members, room moderators, invite links), ``direct`` (direct
messages), ``reports``, ``room_moderation`` (moderating from the room page), ``limits``
(rate limits) and ``errors`` (the one error type). Functions return data and raise
``ChatError`` with a protocol error code; the callers turn that into frames or pages.
"""

from chat.services.direct import (
    direct_peer_ids,
    direct_peers,
    open_direct,
    peer_presence_events,
)
from chat.services.editing import delete_message, delete_messages, edit_message
from chat.services.enforcement import (
    check_not_banned,
    check_socket,
    read_history,
    read_history_around,
    session_expiries,
)
from chat.services.errors import ChatError, settle
from chat.services.handshake import (
    Admission,
    Opened,
    OpenRequest,
    admit,
    admit_many,
    open_sockets,
)
from chat.services.limits import (
    FrameBudget,
    direct_bucket,
    frame_budget,
    join_bucket,
    send_bucket,
    should_relay_typing,
)
from chat.services.members import (
    add_member,
    invite_token,
    join_by_invite,
    remove_member,
    revoke_invites,
    set_room_moderator,
    transfer_ownership,
    user_named,
)
from chat.services.messages import SendRequest, SendResult, send_message, send_messages
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
from chat.services.reads import leave_room, mark_read
from chat.services.reports import moderator_ids, report_message, resolve_reports
from chat.services.room_moderation import moderate_room
from chat.services.rooms import (
    create_room,
    get_or_create_room,
    join_rooms,
    new_room,
    room_latest_seq,
    save_room,
    set_room_locked,
    set_room_text,
    set_slow_mode,
)
from chat.services.writing import clean_body, room_frame

__all__ = [
    "MODERATE_PERMISSION",
    "Admission",
    "ChatError",
    "FrameBudget",
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
    "check_not_banned",
    "check_socket",
    "clean_body",
    "create_room",
    "delete_message",
    "delete_messages",
    "direct_bucket",
    "direct_peer_ids",
    "direct_peers",
    "edit_message",
    "frame_budget",
    "get_or_create_room",
    "impose",
    "invite_token",
    "is_moderator",
    "is_one_emoji",
    "is_room_moderator",
    "join_bucket",
    "join_by_invite",
    "join_rooms",
    "leave_room",
    "log_action",
    "mark_read",
    "moderate_room",
    "moderator_ids",
    "mute_user",
    "new_room",
    "open_direct",
    "open_sockets",
    "peer_presence_events",
    "react",
    "read_history",
    "read_history_around",
    "remove_member",
    "report_message",
    "resolve_reports",
    "revoke_invites",
    "room_frame",
    "room_latest_seq",
    "save_room",
    "send_bucket",
    "send_message",
    "send_messages",
    "session_expiries",
    "set_room_locked",
    "set_room_moderator",
    "set_room_text",
    "set_slow_mode",
    "settle",
    "should_relay_typing",
    "transfer_ownership",
    "user_named",
]
