"""Counts are exact (SPEC §9): the browser's own count logic (static/chat/sidebar.js, run
by node) applied to every frame one socket received through random sends, edits,
deletes, reads and reconnects equals what the server computes."""

import asyncio
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from accounts.tests.factories import UserFactory
from chat import selectors
from chat.models import Message
from tests.support.unit import open_socket

pytestmark = pytest.mark.django_db(transaction=True)
db = database_sync_to_async

SIDEBAR = Path(settings.BASE_DIR) / "static" / "chat" / "sidebar.js"
REPLAY = f"""
import {{ applyFrame }} from {json.dumps(SIDEBAR.as_uri())};
let text = "";
for await (const chunk of process.stdin) text += chunk;
const input = JSON.parse(text);
const counts = {{ rooms: new Map(), me: input.me, known: new Map() }};
for (const frame of input.frames) applyFrame(counts, frame);
const found = {{}};
for (const [name, room] of counts.rooms) found[name] = [room.unread, room.mentions];
console.log(JSON.stringify(found));
"""


def counts_in_the_browser(me: int, frames: list[dict]) -> dict:
    done = subprocess.run(
        ["node", "--input-type=module", "-e", REPLAY],
        input=json.dumps({"me": me, "frames": frames}),
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


class Observer:
    """One socket of the user whose counts are checked, keeping every frame it gets."""

    def __init__(self, user, room: str) -> None:
        self.user, self.room = user, room
        self.frames: list[dict] = []
        self.socket = None
        self.reader = None

    async def open(self) -> None:
        self.socket, hello = await open_socket(self.user, self.room)
        self.frames.append(hello)
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            self.frames.append(await self.socket.receive(timeout=60))

    async def close(self) -> None:
        self.reader.cancel()
        await self.socket.close()

    async def wait_for(self, kind: str, **fields) -> None:
        async def seen() -> None:
            while not any(
                f["type"] == kind and all(f.get(k) == v for k, v in fields.items())
                for f in self.frames
            ):
                await asyncio.sleep(0.01)

        await asyncio.wait_for(seen(), 10)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
@pytest.mark.parametrize("seed", range(3))
async def test_the_browsers_counts_equal_the_servers_after_random_traffic(seed, settings):
    settings.JABBER_RATE_BURST = 100_000
    settings.JABBER_JOIN_BURST = 100_000
    chance = random.Random(seed)
    people = [await db(UserFactory)(username=name) for name in ("ann", "bob", "cat")]
    ann = people[0]
    rooms = ["r0", "r1", "r2"]
    sockets = {}
    for person in people:
        for room in rooms:
            sockets[person.id, room] = (await open_socket(person, room))[0]
    observer = Observer(ann, "r0")
    await observer.open()
    sent = 0
    for _ in range(60):
        person, room = chance.choice(people), chance.choice(rooms)
        socket = sockets[person.id, room]
        action = chance.random()
        mine = await db(list)(
            Message.objects.filter(user=person, room__name=room, deleted__isnull=True)
        )
        names = " ".join(f"@{p.username}" for p in chance.sample(people, chance.randint(0, 2)))
        if action < 0.35:
            sent += 1
            await socket.send({"type": "message", "body": f"hi {names}", "client_id": f"c{sent}"})
            await socket.receive_type("message", client_id=f"c{sent}")
        elif action < 0.6 and mine:
            # Edits that add or take away mentions of ann: activity_edited and message_edited
            target = chance.choice(mine)
            await socket.send({"type": "edit", "id": target.id, "body": f"edited {names}"})
            await socket.receive_type("message_edited")
        elif action < 0.72 and mine:
            target = chance.choice(mine)
            await socket.send({"type": "delete", "id": target.id})
            await socket.receive_type("message_deleted", id=target.id)
        elif action < 0.95:
            # ann reads somewhere, to a random point (past the end too, though seldom: unread
            # messages must be left for edits to move their counts)
            await sockets[ann.id, room].send({"type": "read", "seq": chance.randint(0, 12)})
        else:
            await observer.close()
            await observer.open()
    bob, cat = people[1], people[2]
    # Whatever the dice did: edits that surely add and take away a mention of ann (more adds,
    # so a client that ignored them all would be off), in the observer's own room
    # (message_edited) and another (activity_edited), one then deleted.
    for room in ("r0", "r1"):
        for person, before, after, delete in (
            (bob, "plain", "@ann", False),
            (cat, "@ann", "@bob", False),
            (bob, "plain", "@cat @ann", False),
            (bob, "plain", "@ann now", True),
        ):
            socket = sockets[person.id, room]
            sent += 1
            await socket.send({"type": "message", "body": before, "client_id": f"c{sent}"})
            message = await socket.receive_type("message", client_id=f"c{sent}")
            await socket.send({"type": "edit", "id": message["id"], "body": after})
            await socket.receive_type("message_edited")
            if delete:
                await socket.send({"type": "delete", "id": message["id"]})
                await socket.receive_type("message_deleted", id=message["id"])
    for room in rooms:
        await sockets[ann.id, room].roundtrip()
    await sockets[bob.id, "r1"].send({"type": "message", "body": "last", "client_id": "end"})
    last = await sockets[bob.id, "r1"].receive_type("message", client_id="end")
    await observer.wait_for("activity", id=last["id"])
    await observer.close()
    for socket in sockets.values():
        await socket.close()

    expected = {
        entry["name"]: [entry["unread"], entry["mentions"]]
        for entry in await db(selectors.rooms_for)(ann)
    }
    assert counts_in_the_browser(ann.id, observer.frames) == expected
