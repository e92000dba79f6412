"""Parse client frames into commands (docs/protocol.md, "Client frames"). Pure, no I/O."""

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings


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
