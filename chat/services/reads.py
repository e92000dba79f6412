"""Read positions and mentions: what each member has read, who each message mentions, leaving."""

from collections.abc import Sequence

from django.db import connection, transaction

from chat import protocol, selectors
from chat.models import Membership, Mention, Message, Room
from chat.services.errors import ChatError
from jabber import events


def record_mentions(messages: Sequence[Message]) -> None:
    """Write the Mention rows of newly stored messages (in their transaction); the author's
    own name never counts."""
    rows = [
        Mention(message=message, user_id=user_id, room_id=message.room_id, seq=message.seq)
        for message in messages
        for user_id in dict.fromkeys(message.mentions or ())
        if user_id != message.user_id
    ]
    if rows:
        Mention.objects.bulk_create(rows)


def rewrite_mentions(message: Message) -> None:
    """After an edit: the message mentions exactly who its new text mentions."""
    Mention.objects.filter(message=message).delete()
    record_mentions([message])


def advance_senders(messages: Sequence[Message]) -> None:
    """Move each sender's read position to their newest message of the batch (one statement).

    A new message has the room's highest seq, so it is above any read position.
    """
    newest: dict[tuple[int, int], int] = {}
    for message in messages:
        newest[message.user_id, message.room_id] = message.seq
    with connection.cursor() as cursor:
        # Raw and batched: once per send batch, where the ORM's CASE would cost more
        # to build than to run.
        cursor.executemany(
            f"UPDATE {Membership._meta.db_table} SET last_read_seq = %s"
            " WHERE user_id = %s AND room_id = %s",
            [(seq, user_id, room_id) for (user_id, room_id), seq in newest.items()],
        )


def activity_event(messages: Sequence[Message]) -> events.RoomActivity:
    """The `activity` frames of a batch of new messages, for their rooms' members elsewhere."""
    return events.RoomActivity(
        items=[
            [
                message.room_id,
                protocol.encode(
                    protocol.activity_frame(
                        message.room.name,
                        message.pk,
                        message.seq,
                        message.user_id,
                        message.mentions,
                    )
                ),
            ]
            for message in messages
        ]
    )


def deleted_activity_event(message: Message) -> events.RoomActivity:
    """The `activity_deleted` frame of a hidden message, for its room's members elsewhere."""
    frame = protocol.activity_deleted_frame(
        message.room.name, message.pk, message.seq, message.user_id, message.mentions
    )
    return events.RoomActivity(items=[[message.room_id, protocol.encode(frame)]])


def edited_activity_event(message: Message, previous_mentions: list) -> events.RoomActivity:
    """The `activity_edited` frame of an edit that changed whom a message mentions."""
    frame = protocol.activity_edited_frame(
        message.room.name,
        message.pk,
        message.seq,
        message.user_id,
        message.mentions,
        previous_mentions,
        protocol.timestamp(message.edited),
    )
    return events.RoomActivity(items=[[message.room_id, protocol.encode(frame)]])


def mark_read(user, room: Room, seq: int) -> dict | None:
    """Raise the member's read position to `seq` (clamped to the room's last; never lowered).

    When it moved, every socket of the user hears `read` with the room's new
    counts, and the room's entry (as in `hello.rooms`) is returned; otherwise None.
    """
    if seq < 0:
        raise ChatError("bad_request", "seq must not be negative.")
    with transaction.atomic():
        last_seq = Room.objects.filter(pk=room.pk).values_list("last_seq", flat=True).first()
        if last_seq is None:
            raise ChatError("not_found", "No such room.")
        moved = Membership.objects.filter(
            user_id=user.pk, room_id=room.pk, last_read_seq__lt=min(seq, last_seq)
        ).update(last_read_seq=min(seq, last_seq))
    if not moved:
        return None
    entry = selectors.room_entry(user.pk, room.pk)
    if entry is None:  # left the room meanwhile
        return None
    frame = protocol.read_frame(
        entry["name"], entry["last_read_seq"], entry["unread"], entry["mentions"], entry["last_seq"]
    )
    text = protocol.encode(frame)
    events.publish(events.UserFrame(user=user.pk, text=text))
    return entry


def leave_room(user, room: Room) -> bool:
    """Stop being a member of the room; whether one was. Opening a public room again rejoins
    it; a private room takes a new invitation.

    Refused (bad_request): a direct conversation (it has exactly its two people), and the
    owner of a room others are still in (it would be left with nobody to run it: they hand
    it to one of them first).
    """
    if room.kind == Room.Kind.DIRECT:
        raise ChatError("bad_request", "A direct conversation cannot be left.")
    with transaction.atomic():
        Room.objects.select_for_update().filter(pk=room.pk).exists()  # as transfer_ownership
        mine = Membership.objects.filter(user_id=user.pk, room_id=room.pk).first()
        if mine is None:
            return False
        others = Membership.objects.filter(room_id=room.pk).exclude(pk=mine.pk)
        if mine.role == Membership.Role.OWNER and others.exists():
            raise ChatError(
                "bad_request", "You own this room: make another member its owner before leaving."
            )
        mine.delete()
        change = events.MembershipChanged(pairs=[[user.pk, room.pk]], joined=False)
        transaction.on_commit(lambda: events.publish(change))
    return True
