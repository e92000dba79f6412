"""Factories of the chat's models."""

import factory

from accounts.tests.factories import UserFactory
from chat.models import Ban, Membership, Message, Mute, Reaction, Room
from chat.services.messages import render
from chat.services.reads import record_mentions


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"room-{n}")


class MessageFactory(factory.django.DjangoModelFactory):
    """A stored message; seq follows the room's counter like services.send_message does."""

    class Meta:
        model = Message

    room = factory.SubFactory(RoomFactory)
    user = factory.SubFactory(UserFactory)
    body = factory.Sequence(lambda n: f"message {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        room = kwargs["room"]
        room.refresh_from_db()
        room.last_seq += 1
        room.save(update_fields=["last_seq"])
        kwargs.setdefault("seq", room.last_seq)
        # Rendered as services.send_message renders it, mentions of the room's members included.
        rendered = render(kwargs["body"], room.pk)
        kwargs.setdefault("html", rendered.html)
        kwargs.setdefault("text", rendered.text)
        kwargs.setdefault("mentions", rendered.mentions)
        message = super()._create(model_class, *args, **kwargs)
        record_mentions([message])  # as the send's transaction writes them
        return message


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        django_get_or_create = ["user", "room"]

    user = factory.SubFactory(UserFactory)
    room = factory.SubFactory(RoomFactory)


class ReactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reaction

    message = factory.SubFactory(MessageFactory)
    user = factory.SubFactory(UserFactory)
    emoji = "👍"


class BanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ban

    user = factory.SubFactory(UserFactory)
    room = factory.SubFactory(RoomFactory)


class MuteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mute

    user = factory.SubFactory(UserFactory)
    room = factory.SubFactory(RoomFactory)


def private_room(owner, *members, name: str | None = None) -> Room:
    """A private room owned by `owner`, with `members` as plain members."""
    room = RoomFactory(kind=Room.Kind.PRIVATE, **({"name": name} if name else {}))
    MembershipFactory(user=owner, room=room, role=Membership.Role.OWNER)
    for member in members:
        MembershipFactory(user=member, room=room)
    return room
