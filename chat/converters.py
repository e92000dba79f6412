"""URL converters: a room name is checked once, where its URL is matched."""

from django.urls import register_converter

from chat.models import ROOM_NAME_PATTERN


class RoomNameConverter:
    """A valid room name (pages and sockets)."""

    regex = ROOM_NAME_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class MixedCaseRoomNameConverter(RoomNameConverter):
    """A room name with capitals, which pages redirect to its lower case."""

    regex = ROOM_NAME_PATTERN.replace("a-z", "a-zA-Z")


register_converter(RoomNameConverter, "room")
register_converter(MixedCaseRoomNameConverter, "mixed_case_room")
