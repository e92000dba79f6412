"""A bare `websockets` broadcast server: one room registry, one encode per message.

Run as ``python -m bench.baselines.ws_server --port 8101``. Speaks the subset of
Jabber's protocol the load generator uses: ``hello`` on connect, ``message`` frames
broadcast to the room with ``id``/``seq``/``body``/``client_id``, ``ping`` → ``pong``.
"""

import argparse
import asyncio
import json
import re
import signal

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

ROOM_PATH = re.compile(r"^/ws/chat/([a-z0-9_-]{1,64})/(?:\?.*)?$")


class Rooms:
    """The sockets of every room and the room's message counter."""

    def __init__(self) -> None:
        self.members: dict[str, set[ServerConnection]] = {}
        self.seq: dict[str, int] = {}
        self.next_id = 0

    async def handle(self, connection: ServerConnection) -> None:
        """Serve one socket: join its room, relay its messages, leave on close."""
        match = ROOM_PATH.match(connection.request.path)
        if match is None:
            await connection.close(1008)
            return
        room = match.group(1)
        members = self.members.setdefault(room, set())
        members.add(connection)
        try:
            await connection.send(json.dumps({"type": "hello", "room": room}))
            async for text in connection:
                self.receive(room, connection, text)
        except ConnectionClosed:
            pass
        finally:
            members.discard(connection)

    def receive(self, room: str, connection: ServerConnection, text: str | bytes) -> None:
        """Act on one client frame."""
        try:
            data = json.loads(text)
        except ValueError:
            return
        kind = data.get("type")
        if kind == "message":
            self.next_id += 1
            seq = self.seq[room] = self.seq.get(room, 0) + 1
            frame = {
                "type": "message",
                "id": self.next_id,
                "seq": seq,
                "room": room,
                "body": data.get("body"),
                "client_id": data.get("client_id"),
            }
            broadcast(self.members[room], json.dumps(frame, separators=(",", ":")))
        elif kind == "ping":
            broadcast([connection], json.dumps({"type": "pong", "seq": self.seq.get(room, 0)}))


async def main(host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT."""
    rooms = Rooms()
    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set_result, None)
    async with serve(rooms.handle, host, port, compression=None, max_queue=64):
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101)
    args = parser.parse_args()
    asyncio.run(main(args.host, args.port))
