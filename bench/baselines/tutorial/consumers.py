"""The tutorial's ChatConsumer: group_send per message, each socket re-encodes the JSON.

Only the frame shape differs from the tutorial, so the same load generator drives
it: ``hello`` on connect, ``message`` with ``id``/``seq``/``body``/``client_id``.
"""

import json

from channels.generic.websocket import AsyncWebsocketConsumer

# Per-process counters: enough for a one-process baseline.
_seq: dict[str, int] = {}
_ids = {"next": 0}


class ChatConsumer(AsyncWebsocketConsumer):
    """Join the room's group on connect; relay each message to the group."""

    async def connect(self) -> None:
        self.room_name = self.scope["url_route"]["kwargs"]["room_name"]
        self.room_group_name = f"chat_{self.room_name}"
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)
        await self.accept()
        await self.send(text_data=json.dumps({"type": "hello", "room": self.room_name}))

    async def disconnect(self, close_code: int) -> None:
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        data = json.loads(text_data or "{}")
        if data.get("type") == "ping":
            seq = _seq.get(self.room_name, 0)
            await self.send(text_data=json.dumps({"type": "pong", "seq": seq}))
            return
        if data.get("type") != "message":
            return
        _ids["next"] += 1
        seq = _seq[self.room_name] = _seq.get(self.room_name, 0) + 1
        await self.channel_layer.group_send(
            self.room_group_name,
            {
                "type": "chat.message",
                "id": _ids["next"],
                "seq": seq,
                "body": data.get("body"),
                "client_id": data.get("client_id"),
            },
        )

    async def chat_message(self, event: dict) -> None:
        await self.send(
            text_data=json.dumps(
                {
                    "type": "message",
                    "id": event["id"],
                    "seq": event["seq"],
                    "room": self.room_name,
                    "body": event["body"],
                    "client_id": event["client_id"],
                }
            )
        )
