"""WebSocket URLs: a socket per room, anything else refused at the handshake."""

from django.urls import path, re_path

from chat import converters  # noqa: F401 (registers <room:>)
from chat.consumers import ChatConsumer
from jabber.origins import Denier

# A socket for anything but a valid room name is refused at the handshake (403).
websocket_urlpatterns = [
    path("ws/chat/<room:room>/", ChatConsumer.as_asgi()),
    re_path(r"", Denier.as_asgi()),
]
