"""WebSocket URLs: a socket per room, anything else refused at the handshake."""

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path, re_path

from chat import converters  # noqa: F401 (registers <room:>)
from chat.consumers import ChatConsumer


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Any other socket path: refused at the handshake (403) instead of an error."""

    channel_layer_alias = None

    async def connect(self) -> None:
        await self.close()


# A socket for anything but a valid room name is refused at the handshake (403).
websocket_urlpatterns = [
    path("ws/chat/<room:room>/", ChatConsumer.as_asgi()),
    re_path(r"", NotFoundConsumer.as_asgi()),
]
