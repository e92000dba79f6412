"""Editing and deleting messages (one's own, or any for a moderator); broadcast after commit."""

from django.db import transaction
from django.db.models import QuerySet

from chat import protocol, selectors
from chat.models import Message, Room
from chat.services.enforcement import check_not_banned
from chat.services.errors import ChatError
from chat.services.moderation import is_room_moderator, log_action
from chat.services.reads import deleted_activity_event, edited_activity_event, rewrite_mentions
from chat.services.writing import (
    check_may_write,
    check_slow_mode,
    clean_body,
    render,
    room_frame,
    take_send_token,
)
from jabber import clock, events


def _own_visible_message(room: Room, message_id: int) -> Message:
    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("user", "room", "reply_to__user")
        .filter(pk=message_id, room=room, deleted__isnull=True)
        .first()
    )
    if message is None:
        raise ChatError("not_found", "No such message in this room.")
    return message


def edit_message(*, user, room: Room, message_id: int, body: str) -> Message:
    """Change the body of one's own message and broadcast `message_edited`."""
    body = clean_body(body, allow_empty=True)
    with transaction.atomic():
        room = Room.objects.get(pk=room.pk)
        check_not_banned(user.pk, room.pk)
        message = _own_visible_message(room, message_id)
        if message.user_id != user.id:
            raise ChatError("forbidden", "You can only edit your own messages.")
        if not body and not message.attachments.exists():
            raise ChatError("empty", "The message is empty.")
        check_may_write(user, room, None, muted=bool(selectors.muted_pairs({(user.pk, room.pk)})))
        # An edit is a write too: slow mode counts it, or edits would post around it.
        last = selectors.last_write_time(user.pk, room) if room.slow_mode_seconds else None
        check_slow_mode(user, room, None, last)
        take_send_token(user, None)
        rendered = render(body, room.pk)
        previous_mentions = list(message.mentions or ())
        message.body, message.html, message.text = body, rendered.html, rendered.text
        message.mentions = rendered.mentions
        message.edited = clock.utcnow()
        message.save(update_fields=["body", "html", "text", "mentions", "edited"])
        rewrite_mentions(message)
        reactions = selectors.reactions_by_message([message.pk]).get(message.pk)
        files = selectors.attachments_by_message([message.pk]).get(message.pk)
        payload = protocol.message_payload(message, reactions, files)
        broadcasts = [room_frame(room.id, protocol.message_edited_frame(payload))]
        # Members elsewhere count mentions: they hear of an edit only when those changed.
        if set(previous_mentions) != set(message.mentions):
            broadcasts.append(edited_activity_event(message, previous_mentions))
        transaction.on_commit(lambda: events.publish(*broadcasts))
    return message


def delete_message(*, actor, room: Room, message_id: int) -> Message:
    """Hide a message (one's own, or any for a moderator) and broadcast `message_deleted`."""
    with transaction.atomic():
        check_not_banned(actor.pk, room.pk)
        message = _own_visible_message(room, message_id)
        if message.user_id != actor.id and not is_room_moderator(actor, room):
            raise ChatError("forbidden", "You can only delete your own messages.")
        _hide(message, actor)
    return message


def delete_messages(*, actor, messages: QuerySet[Message]) -> int:
    """Hide many messages at once (the admin action); each room hears of each one."""
    count = 0
    with transaction.atomic():
        for message in (
            messages.select_for_update().select_related("room").filter(deleted__isnull=True)
        ):
            _hide(message, actor)
            count += 1
    return count


def _hide(message: Message, actor) -> None:
    message.deleted = clock.utcnow()
    message.deleted_by = actor
    message.save(update_fields=["deleted", "deleted_by"])
    if message.user_id != actor.id:
        log_action(actor, message, "Deleted (hidden) message.")
    event = room_frame(message.room_id, protocol.message_deleted_frame(message.pk))
    activity = deleted_activity_event(message)
    transaction.on_commit(lambda: events.publish(event, activity))
