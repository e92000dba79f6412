"""Parse client frames and build server frames (docs/protocol.md). Pure functions, no I/O."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

# Every `type` the server sends to a client (docs/protocol.md, "Server frames").
SERVER_FRAME_TYPES = frozenset(
    {"hello", "message", "history", "pong", "presence", "typing", "message_edited",
     "message_deleted", "error", "reaction", "activity", "activity_deleted", "read",
     "reported", "report", "report_resolved"}
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


class ProtocolError(Exception):
    """A frame the server cannot act on; carries an error code (docs/protocol.md#error-codes)."""

    def __init__(
        self,
        code: str,
        detail: str,
        client_id: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.client_id = client_id
        self.request_id = request_id


@dataclass(frozen=True)
class SendCommand:
    body: str
    client_id: str | None
    reply_to: int | None = None
    attachments: tuple[int, ...] = ()


@dataclass(frozen=True)
class HistoryCommand:
    before: int | None
    after: int | None
    limit: int
    around: int | None = None


@dataclass(frozen=True)
class ReactCommand:
    id: int
    emoji: str
    added: bool  # react adds, unreact takes away


@dataclass(frozen=True)
class ReportCommand:
    id: int
    reason: str


# The longest reason a report may give.
REPORT_REASON_MAX = 500


@dataclass(frozen=True)
class TypingCommand:
    pass


@dataclass(frozen=True)
class PingCommand:
    pass


@dataclass(frozen=True)
class EditCommand:
    id: int
    body: str


@dataclass(frozen=True)
class DeleteCommand:
    id: int


@dataclass(frozen=True)
class ReadCommand:
    seq: int


Command = (
    SendCommand | HistoryCommand | TypingCommand | PingCommand | EditCommand | DeleteCommand
    | ReactCommand | ReadCommand | ReportCommand
)  # fmt: skip


@dataclass(frozen=True)
class Request:
    """A parsed client frame: its command, and the request_id its reply carries back."""

    command: Command
    request_id: str | None = None


# Ids are 64-bit in every database we run on.
MAX_ID = 2**63 - 1

# Characters in the longest emoji sequence we accept (ZWJ families, flags, keycaps).
EMOJI_MAX = 32

# A client's tag for matching a reply to its request.
REQUEST_ID_MAX = 64

# JSON nested deeper than this is hostile, not chat.
MAX_DEPTH = 8


def _check_depth(value: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise ProtocolError("bad_json", "The frame is nested too deeply.")
    if isinstance(value, dict):
        for item in value.values():
            _check_depth(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_depth(item, depth + 1)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def decode(text: str) -> dict:
    """Turn a text frame into a JSON object, or raise bad_json / bad_request."""
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ProtocolError("bad_json", "The frame is not valid JSON.") from None
    _check_depth(data)
    if not isinstance(data, dict):
        raise ProtocolError("bad_request", "A frame must be a JSON object.")
    return data


def _client_id(data: dict) -> str | None:
    value = data.get("client_id")
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= settings.JABBER_CLIENT_ID_MAX
        or not value.isprintable()
    ):
        raise ProtocolError(
            "bad_request",
            f"client_id must be 1-{settings.JABBER_CLIENT_ID_MAX} printable characters.",
        )
    return value


def _integer(data: dict, field: str, *, required: bool, minimum: int = 0) -> int | None:
    value = data.get(field)
    if value is None and not required:
        return None
    # bool is an int in Python but never an id in JSON.
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= MAX_ID:
        raise ProtocolError("bad_request", f"{field} must be an integer from {minimum} to 2^63-1.")
    return value


def _body(data: dict, client_id: str | None = None) -> str:
    value = data.get("body")
    if not isinstance(value, str):
        raise ProtocolError("bad_request", "body must be a string.", client_id)
    return value


def _attachments(data: dict, client_id: str | None) -> tuple[int, ...]:
    """The ids in a `message`'s `attachments`: up to JABBER_MAX_ATTACHMENTS, distinct."""
    value = data.get("attachments")
    if value is None:
        return ()
    limit = settings.JABBER_MAX_ATTACHMENTS
    if (
        not isinstance(value, list)
        or len(value) > limit
        or any(not isinstance(i, int) or isinstance(i, bool) or not 1 <= i <= MAX_ID for i in value)
        or len(set(value)) != len(value)
    ):
        raise ProtocolError(
            "bad_request", f"attachments must be up to {limit} distinct upload ids.", client_id
        )
    return tuple(value)


def _request_id(data: dict) -> str | None:
    value = data.get("request_id")
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= REQUEST_ID_MAX
        or not value.isprintable()
    ):
        raise ProtocolError(
            "bad_request", f"request_id must be 1-{REQUEST_ID_MAX} printable characters."
        )
    return value


def parse(text: str) -> Request:
    """Parse one client frame, or raise ProtocolError (with the request_id, once it is known)."""
    data = decode(text)
    request_id = _request_id(data)
    try:
        return Request(_command(data), request_id)
    except ProtocolError as error:
        error.request_id = request_id
        raise


def _command(data: dict) -> Command:
    kind = data.get("type")
    if kind == "message":
        client_id = _client_id(data)
        try:
            reply_to = _integer(data, "reply_to", required=False, minimum=1)
        except ProtocolError as error:
            error.client_id = client_id
            raise
        attachments = _attachments(data, client_id)
        # A message of files alone may leave out its body.
        body = "" if attachments and data.get("body") is None else _body(data, client_id)
        return SendCommand(
            body=body, client_id=client_id, reply_to=reply_to, attachments=attachments
        )
    if kind == "history":
        before = _integer(data, "before", required=False)
        after = _integer(data, "after", required=False)
        around = _integer(data, "around", required=False, minimum=1)
        if sum(cursor is not None for cursor in (before, after, around)) > 1:
            raise ProtocolError("bad_request", "Give one of before, after and around.")
        limit = data.get("limit", settings.JABBER_HISTORY_PAGE)
        if (
            not isinstance(limit, int)
            or isinstance(limit, bool)
            or not 1 <= limit <= settings.JABBER_HISTORY_MAX
        ):
            raise ProtocolError(
                "bad_request", f"limit must be an integer from 1 to {settings.JABBER_HISTORY_MAX}."
            )
        return HistoryCommand(before=before, after=after, limit=limit, around=around)
    if kind == "typing":
        return TypingCommand()
    if kind == "ping":
        return PingCommand()
    if kind == "edit":
        return EditCommand(id=_integer(data, "id", required=True, minimum=1), body=_body(data))
    if kind == "delete":
        return DeleteCommand(id=_integer(data, "id", required=True, minimum=1))
    if kind in ("react", "unreact"):
        emoji = data.get("emoji")
        if not isinstance(emoji, str) or not 1 <= len(emoji) <= EMOJI_MAX:
            raise ProtocolError("bad_request", "emoji must be one emoji.")
        return ReactCommand(
            id=_integer(data, "id", required=True, minimum=1), emoji=emoji, added=kind == "react"
        )
    if kind == "read":
        # A seq past the room's last is clamped by the service, so any 64-bit one is taken.
        return ReadCommand(seq=_integer(data, "seq", required=True, minimum=0))
    if kind == "report":
        reason = data.get("reason")
        if not isinstance(reason, str) or not 1 <= len(reason.strip()) <= REPORT_REASON_MAX:
            raise ProtocolError(
                "bad_request", f"reason must be 1-{REPORT_REASON_MAX} characters of text."
            )
        return ReportCommand(id=_integer(data, "id", required=True, minimum=1), reason=reason)
    if not isinstance(kind, str):
        raise ProtocolError("bad_request", "A frame needs a string type.")
    raise ProtocolError("bad_request", f"Unknown frame type {kind[:40]!r}.")


# Building frames ----------------------------------------------------------


def encode(frame: dict) -> str:
    """Serialise a frame once; the result is handed to every recipient as is."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def user_payload(user: Any) -> dict:
    return {"id": user.id, "username": user.username}


EXCERPT_LENGTH = 100


def reply_payload(
    id_: int | None, user_id: int, username: str, text: str, deleted: bool
) -> dict | None:
    """MESSAGE `reply_to`: the original's author and the start of its text, or that it is gone."""
    if id_ is None:
        return None
    return {
        "id": id_,
        "user": {"id": user_id, "username": username},
        "excerpt": "" if deleted else text[:EXCERPT_LENGTH],
        "deleted": deleted,
    }


# The columns of an ATTACHMENT, for queries that skip model instances.
ATTACHMENT_ROW = (
    "id", "room__name", "name", "size", "content_type", "thumbnail", "width", "height",
)  # fmt: skip


def attachment_url(room: str, attachment_id: int) -> str:
    """Where an attachment's bytes are served (files.urls), after the read-access check."""
    return f"/chat/{room}/files/{attachment_id}/"


def attachment_payload_row(row: tuple) -> dict:
    """The ATTACHMENT object (docs/protocol.md#the-attachment-object) of ATTACHMENT_ROW columns.

    An image too small to need a thumbnail has its own url as thumbnail_url.
    """
    id_, room, name, size, content_type, thumbnail, width, height = row
    url = attachment_url(room, id_)
    if width is None:
        thumbnail_url = None
    else:
        thumbnail_url = f"{url}thumbnail/" if thumbnail else url
    return {
        "id": id_,
        "name": name,
        "size": size,
        "content_type": content_type,
        "url": url,
        "thumbnail_url": thumbnail_url,
        "width": width,
        "height": height,
    }


def attachment_payload(attachment: Any, room: str) -> dict:
    """The ATTACHMENT object of a model instance in the room named `room`."""
    return attachment_payload_row(
        (
            attachment.id, room, attachment.name, attachment.size, attachment.content_type,
            attachment.thumbnail.name if attachment.thumbnail else "",
            attachment.width, attachment.height,
        )
    )  # fmt: skip


def message_payload(
    message: Any, reactions: list[dict] | None = None, attachments: list[dict] | None = None
) -> dict:
    """The MESSAGE object (docs/protocol.md#the-message-object) of a model instance.

    `message.reply_to`, if set, must be loaded with its user.
    """
    original = message.reply_to if message.reply_to_id else None
    return {
        "id": message.id,
        "seq": message.seq,
        "room": message.room.name,
        "user": {"id": message.user_id, "username": message.user.username},
        "body": message.body,
        "html": message.html,
        "created": timestamp(message.created),
        "edited": timestamp(message.edited),
        "client_id": message.client_id,
        "mentions": message.mentions,
        "reply_to": original
        and reply_payload(
            original.id,
            original.user_id,
            original.user.username,
            original.text,
            original.deleted is not None,
        ),
        "reactions": reactions or [],
        "attachments": attachments or [],
    }


# The columns of a MESSAGE, for queries that skip model instances.
MESSAGE_ROW = (
    "id", "seq", "room__name", "user_id", "user__username",
    "body", "html", "created", "edited", "client_id", "mentions",
    "reply_to_id", "reply_to__user_id", "reply_to__user__username", "reply_to__text",
    "reply_to__deleted",
)  # fmt: skip


def message_payload_row(
    row: tuple, reactions: list[dict] | None = None, attachments: list[dict] | None = None
) -> dict:
    """The MESSAGE object from a row of MESSAGE_ROW columns."""
    (
        id_, seq, room, user_id, username, body, html, created, edited, client_id, mentions,
        reply_id, reply_user_id, reply_username, reply_text, reply_deleted,
    ) = row  # fmt: skip
    return {
        "id": id_,
        "seq": seq,
        "room": room,
        "user": {"id": user_id, "username": username},
        "body": body,
        "html": html,
        "created": timestamp(created),
        "edited": timestamp(edited),
        "client_id": client_id,
        "mentions": mentions,
        "reply_to": reply_payload(
            reply_id, reply_user_id, reply_username, reply_text or "", reply_deleted is not None
        ),
        "reactions": reactions or [],
        "attachments": attachments or [],
    }


def reactions_payload(rows: list[tuple[str, int]]) -> list[dict]:
    """MESSAGE `reactions` from (emoji, user id) rows in the order they were added."""
    summary: dict[str, list[int]] = {}
    for emoji, user_id in rows:
        summary.setdefault(emoji, []).append(user_id)
    return [{"emoji": e, "count": len(users), "users": users} for e, users in summary.items()]


# At most, when encoded: bytes per body character (4 in UTF-8, 6 for a \u escape),
# and bytes for everything else (ids, a 150-character username, room,
# timestamps, a 64-character client_id, keys and punctuation).
_BODY_BYTES_PER_CHAR = 6
_PAYLOAD_OVERHEAD = 4096

# daphne will not send a frame over 1 MiB; big replays are split below this.
FRAME_BUDGET = 900 * 1024


def _size_bound(payload: dict) -> int:
    """Bytes a payload may take encoded, at most (reactions: a few users each, rarely)."""
    characters = len(payload["body"]) + len(payload.get("html", ""))
    reactions = sum(16 + 24 * len(r["users"]) for r in payload.get("reactions", ()))
    characters += len(payload.get("mentions", ())) * 4  # an id is at most 24 bytes
    # An attachment: its name, plus urls, type and numbers (under 400 bytes).
    characters += sum(len(a["name"]) + 70 for a in payload.get("attachments", ()))
    return characters * _BODY_BYTES_PER_CHAR + reactions + _PAYLOAD_OVERHEAD


def split_to_fit(payloads: list[dict], budget: int = FRAME_BUDGET) -> list[list[dict]]:
    """Cut a list of MESSAGE payloads, in order, into runs that each encode within budget."""
    # Nearly always all of it fits: a bound from the lengths spares encoding each one.
    if sum(_size_bound(p) for p in payloads) <= budget:
        return [payloads]
    chunks: list[list[dict]] = [[]]
    size = 0
    for payload in payloads:
        length = len(encode(payload).encode("utf-8")) + 1
        if chunks[-1] and size + length > budget:
            chunks.append([])
            size = 0
        chunks[-1].append(payload)
        size += length
    return chunks


def hello_frame(
    *,
    room: str,
    you: dict,
    kind: str = "public",
    online: list[dict],
    messages: list[dict],
    has_more: bool,
    gap: bool = False,
    last_read_seq: int = 0,
    rooms: list[dict] | None = None,
) -> dict:
    frame = {
        "type": "hello",
        "room": room,
        "kind": kind,
        "you": you,
        "online": online,
        "messages": messages,
        "has_more": has_more,
        "last_read_seq": last_read_seq,
        "rooms": rooms or [],
    }
    if gap:
        frame["gap"] = True
    return frame


def message_frame(payload: dict) -> dict:
    return {"type": "message", **payload}


def message_edited_frame(payload: dict) -> dict:
    return {"type": "message_edited", "message": payload}


def message_deleted_frame(message_id: int) -> dict:
    return {"type": "message_deleted", "id": message_id}


def history_frame(messages: list[dict], has_more: bool, **around: bool) -> dict:
    """`around` adds has_more_before and has_more_after (a page centred on a message)."""
    return {"type": "history", "messages": messages, "has_more": has_more, **around}


def reaction_frame(message_id: int, emoji: str, user: dict, added: bool, count: int) -> dict:
    return {
        "type": "reaction",
        "id": message_id,
        "emoji": emoji,
        "user": user,
        "added": added,
        "count": count,
    }


def activity_frame(room: str, message_id: int, seq: int, user_id: int, mentions: list) -> dict:
    """A new message in another of the user's rooms."""
    return {
        "type": "activity",
        "room": room,
        "id": message_id,
        "seq": seq,
        "user_id": user_id,
        "mentions": mentions,
    }


def activity_deleted_frame(
    room: str, message_id: int, seq: int, user_id: int, mentions: list
) -> dict:
    """A message deleted in another of the user's rooms (author and mentions: counts can drop)."""
    return {
        "type": "activity_deleted",
        "room": room,
        "id": message_id,
        "seq": seq,
        "user_id": user_id,
        "mentions": mentions,
    }


def read_frame(room: str, seq: int, unread: int, mentions: int, last_seq: int) -> dict:
    """A read position moved: `seq`, and the room's counts from there up to `last_seq`."""
    return {
        "type": "read",
        "room": room,
        "seq": seq,
        "unread": unread,
        "mentions": mentions,
        "last_seq": last_seq,
    }


def reported_frame(message_id: int) -> dict:
    return {"type": "reported", "id": message_id}


def report_frame(*, report_id: int, room: str, message: dict, reporter: dict, reason: str) -> dict:
    """A report, live to the room's moderators: the reported MESSAGE, who reported it and why."""
    return {
        "type": "report",
        "report": report_id,
        "room": room,
        "message": message,
        "reporter": reporter,
        "reason": reason,
    }


def report_resolved_frame(message_id: int, outcome: str) -> dict:
    """To the reporter: what the moderators did about the message they reported."""
    return {"type": "report_resolved", "id": message_id, "outcome": outcome}


def pong_frame(seq: int) -> dict:
    return {"type": "pong", "seq": seq}


def presence_frame(online: list[dict]) -> dict:
    return {"type": "presence", "online": online}


def typing_frame(user: dict) -> dict:
    return {"type": "typing", "user": user}


def reply(frame: dict, request_id: str | None) -> dict:
    """A frame answering one request: it carries that request's request_id back."""
    return frame if request_id is None else {**frame, "request_id": request_id}


def error_frame(
    code: str, detail: str, client_id: str | None = None, retry_after: float | None = None
) -> dict:
    frame: dict = {"type": "error", "code": code, "detail": detail}
    if client_id is not None:
        frame["client_id"] = client_id
    if retry_after is not None:
        frame["retry_after"] = round(retry_after, 2)
    return frame
