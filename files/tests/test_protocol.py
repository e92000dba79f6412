"""The `attachments` field of a `message` frame: parsed strictly, carried by the socket."""

import json

import pytest
from channels.db import database_sync_to_async

from chat import protocol
from chat.models import Attachment
from files.tests.factories import store
from tests.support.unit import open_socket


def parse(**fields) -> protocol.SendCommand:
    return protocol.parse(json.dumps({"type": "message", **fields})).command


def test_attachments_may_come_without_a_body():
    command = parse(attachments=[3, 1], client_id="c")
    assert command.attachments == (3, 1) and command.body == ""


def test_a_body_is_still_required_without_attachments():
    with pytest.raises(protocol.ProtocolError) as refused:
        parse(client_id="c")
    assert refused.value.code == "bad_request"


@pytest.mark.parametrize(
    "attachments",
    ["1", [True], [0], [1.5], ["1"], [1, 1], list(range(1, 12)), [2**63], {"id": 1}],
)
def test_malformed_attachments_are_bad_request_with_the_client_id(attachments):
    with pytest.raises(protocol.ProtocolError) as refused:
        parse(body="x", client_id="c-1", attachments=attachments)
    assert refused.value.code == "bad_request" and refused.value.client_id == "c-1"


def test_ten_attachments_are_allowed():
    assert len(parse(body="x", attachments=list(range(1, 11))).attachments) == 10


@pytest.mark.django_db(transaction=True)
async def test_a_message_frame_with_attachments_is_broadcast_with_them(ann, bob, lobby, settings):
    upload = await database_sync_to_async(store)(ann, lobby, b"notes")
    sender, _ = await open_socket(ann, "lobby")
    reader, _ = await open_socket(bob, "lobby")
    await sender.send({"type": "message", "attachments": [upload.id], "client_id": "c-1"})
    frame = await reader.receive_type("message")
    assert frame["body"] == "" and [a["id"] for a in frame["attachments"]] == [upload.id]
    assert frame["attachments"][0]["url"] == f"/chat/lobby/files/{upload.id}/"
    assert await database_sync_to_async(
        Attachment.objects.filter(pk=upload.pk, message__isnull=False).exists
    )()
    # Sent again (a resend): only the sender hears, with the attachments as stored.
    await sender.receive_type("message")
    await sender.send(
        {"type": "message", "attachments": [upload.id], "client_id": "c-1", "request_id": "r"}
    )
    again = await sender.receive_type("message", request_id="r")
    assert [a["id"] for a in again["attachments"]] == [upload.id]
    await sender.close()
    await reader.close()


@pytest.mark.django_db(transaction=True)
async def test_another_users_upload_is_refused_on_the_socket(ann, bob, lobby):
    upload = await database_sync_to_async(store)(bob, lobby)
    socket, _ = await open_socket(ann, "lobby")
    await socket.send({"type": "message", "body": "mine", "attachments": [upload.id]})
    error = await socket.receive_type("error")
    assert error["code"] == "not_found"
    await socket.close()
