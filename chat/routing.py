from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import re_path

from chat.consumers import ChatConsumer


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Any other socket path: refused at the handshake (403) instead of an error."""

    channel_layer_alias = None

    async def connect(self) -> None:
        await self.close()


# Any single path segment reaches the chat consumer, which refuses bad names with 403.
websocket_urlpatterns = [
    re_path(r"^ws/chat/(?P<room>[^/]+)/$", ChatConsumer.as_asgi()),
    re_path(r"", NotFoundConsumer.as_asgi()),
]
