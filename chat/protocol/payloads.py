"""The objects frames carry: MESSAGE, USER, ATTACHMENT, reactions (docs/protocol.md). Pure."""

import json
from datetime import UTC, datetime
from typing import Any


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
