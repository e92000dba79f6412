"""The WebSocket protocol (docs/protocol.md): its vocabulary, client commands, server frames.

Pure functions, no I/O: `commands` parses what clients send, `payloads` builds the
objects frames carry, `frames` builds what the server sends. Callers import this
package (`from chat import protocol`); the names below are its public API.
"""

from chat.protocol.commands import (  # noqa: F401
    EMOJI_MAX,
    MAX_DEPTH,
    MAX_ID,
    REPORT_REASON_MAX,
    REQUEST_ID_MAX,
    Command,
    DeleteCommand,
    EditCommand,
    HistoryCommand,
    PingCommand,
    ProtocolError,
    ReactCommand,
    ReadCommand,
    ReportCommand,
    Request,
    SendCommand,
    TypingCommand,
    decode,
    parse,
)
from chat.protocol.frames import (  # noqa: F401
    FRAME_BUDGET,
    activity_deleted_frame,
    activity_edited_frame,
    activity_frame,
    error_frame,
    hello_frame,
    history_frame,
    message_deleted_frame,
    message_edited_frame,
    message_frame,
    peer_presence_frame,
    pong_frame,
    presence_frame,
    reaction_frame,
    read_frame,
    reply,
    report_frame,
    report_resolved_frame,
    reported_frame,
    role_frame,
    split_to_fit,
    typing_frame,
)
from chat.protocol.payloads import (  # noqa: F401
    ATTACHMENT_ROW,
    EXCERPT_LENGTH,
    MESSAGE_ROW,
    attachment_payload,
    attachment_payload_row,
    attachment_url,
    encode,
    message_payload,
    message_payload_row,
    reactions_payload,
    reply_payload,
    timestamp,
    user_payload,
)

# Every `type` the server sends to a client (docs/protocol.md, "Server frames").
SERVER_FRAME_TYPES = frozenset(
    {"hello", "message", "history", "pong", "presence", "typing", "message_edited",
     "message_deleted", "error", "reaction", "activity", "activity_deleted", "activity_edited",
     "read",
     "reported", "report", "report_resolved", "role", "peer_presence"}
)  # fmt: skip
# Every `type` a client may send (docs/protocol.md, "Client frames").
CLIENT_FRAME_TYPES = frozenset(
    {"message", "history", "typing", "ping", "edit", "delete", "react", "unreact", "read", "report"}
)
# Every `code` an `error` frame can carry (docs/protocol.md, "Error codes").
ERROR_CODES = frozenset(
    {"bad_json", "bad_request", "empty", "too_long", "rate_limited", "muted", "room_locked",
     "not_found", "forbidden", "banned", "too_many"}
)  # fmt: skip
