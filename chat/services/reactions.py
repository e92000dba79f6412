"""Reactions: a user's emoji on a message, each at most once, broadcast as they change."""

from dataclasses import dataclass

import emoji as emoji_data
from django.conf import settings
from django.db import transaction

from chat import protocol, selectors
from chat.models import Message, Reaction, Room
from chat.services.errors import ChatError
from chat.services.writing import check_may_write, room_frame
from jabber import events
from jabber.ratelimit import Bucket

# Different emoji on one message, at most.
MAX_KINDS = 20
_FULLY_QUALIFIED = emoji_data.STATUS["fully_qualified"]


@dataclass(frozen=True)
class ReactionResult:
    frame: dict  # the `reaction` frame, as broadcast (or answered, when nothing changed)
    changed: bool


def reaction_bucket() -> Bucket:
    return Bucket("react", settings.JABBER_REACTION_BURST, settings.JABBER_REACTION_PER_SECOND)


def is_one_emoji(text: str) -> bool:
    """Whether the text is exactly one fully-qualified Unicode emoji sequence."""
    return emoji_data.EMOJI_DATA.get(text, {}).get("status") == _FULLY_QUALIFIED


def react(*, user, room: Room, message_id: int, emoji: str, added: bool = True) -> ReactionResult:
    """Add (or with added=False take back) a user's emoji on a visible message of the room.

    A repeat changes nothing and broadcasts nothing; a change is broadcast after commit.
    """
    if not is_one_emoji(emoji):
        raise ChatError("bad_request", "emoji must be one emoji.")
    with transaction.atomic():
        room = Room.objects.get(pk=room.pk)
        # Locked per message: the limit on kinds holds under concurrent reactions.
        message = (
            Message.objects.select_for_update()
            .filter(pk=message_id, room=room, deleted__isnull=True)
            .first()
        )
        if message is None:
            raise ChatError("not_found", "No such message in this room.")
        check_may_write(user, room, None, muted=bool(selectors.muted_pairs({(user.pk, room.pk)})))
        wait = reaction_bucket().take(user.pk)
        if wait:
            raise ChatError("rate_limited", "You are reacting too fast.", retry_after=wait)
        mine = Reaction.objects.filter(message=message, user=user, emoji=emoji)
        if added:
            changed = not mine.exists()
            if changed:
                kinds = set(
                    Reaction.objects.filter(message=message).values_list("emoji", flat=True)
                )
                if emoji not in kinds and len(kinds) >= MAX_KINDS:
                    raise ChatError("too_many", f"A message has at most {MAX_KINDS} emoji.")
                Reaction.objects.create(message=message, user=user, emoji=emoji)
        else:
            changed = mine.delete()[0] > 0
        count = Reaction.objects.filter(message=message, emoji=emoji).count()
        frame = protocol.reaction_frame(
            message.pk, emoji, protocol.user_payload(user), added, count
        )
        if changed:
            event = room_frame(room.pk, frame)
            transaction.on_commit(lambda: events.publish(event))
    return ReactionResult(frame=frame, changed=changed)
