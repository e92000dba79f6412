"""Build server frames (docs/protocol.md, "Server frames"). Pure functions, no I/O."""

from chat.protocol.payloads import encode

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


def activity_edited_frame(
    room: str,
    message_id: int,
    seq: int,
    user_id: int,
    mentions: list,
    previous_mentions: list,
    edited: str | None,
) -> dict:
    """An edit in another of the user's rooms changed whom the message mentions."""
    return {
        "type": "activity_edited",
        "room": room,
        "id": message_id,
        "seq": seq,
        "user_id": user_id,
        "mentions": mentions,
        "previous_mentions": previous_mentions,
        "edited": edited,
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


def role_frame(room: str, role: str, moderates: bool) -> dict:
    """Your role in the room changed (`owner`, `moderator` or `member`), and whether you now
    moderate it (a room role, or the site's Moderators group)."""
    return {"type": "role", "room": room, "role": role, "moderates": moderates}


def peer_presence_frame(user_id: int, online: bool) -> dict:
    """Someone you share a direct-message room with came online (a first socket anywhere)
    or went offline (their last socket closed)."""
    return {"type": "peer_presence", "user_id": user_id, "online": online}


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
