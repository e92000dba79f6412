"""Sending uploads with a message, their place in MESSAGE payloads, and purging."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from chat import protocol, selectors
from chat.models import Attachment, Message
from chat.services import ChatError, delete_message, edit_message, send_message
from chat.tests.factories import RoomFactory
from files.services import purge_uploads
from files.tests.factories import image_bytes, store
from jabber import clock
from jabber.events import RoomFrame

pytestmark = pytest.mark.django_db


def test_a_message_carries_the_senders_uploads_and_may_have_no_text(ann, lobby):
    first, second = store(ann, lobby), store(ann, lobby, image_bytes((500, 100)), "wide.png")
    message = send_message(user=ann, room=lobby, body="  ", attachments=[first.id, second.id])
    assert message.message.body == ""
    assert list(Attachment.objects.filter(message=message.message)) == [first, second]
    payload = selectors.message_payload(message.message.id)
    assert [a["id"] for a in payload["attachments"]] == [first.id, second.id]
    assert payload["attachments"][1]["width"] == 500


def test_a_message_without_text_or_attachments_is_still_empty(ann, lobby):
    with pytest.raises(ChatError) as refused:
        send_message(user=ann, room=lobby, body=" ")
    assert refused.value.code == "empty"


@pytest.mark.parametrize("whose", ["another user's", "another room's", "an already sent"])
def test_an_upload_not_the_senders_unused_one_here_is_not_found(ann, bob, lobby, whose):
    if whose == "another user's":
        upload = store(bob, lobby)
    elif whose == "another room's":
        upload = store(ann, RoomFactory(name="elsewhere"))
    else:
        upload = store(ann, lobby)
        send_message(user=ann, room=lobby, body="first", attachments=[upload.id])
    before = Message.objects.count()
    with pytest.raises(ChatError) as refused:
        send_message(user=ann, room=lobby, body="hi", attachments=[upload.id], client_id="c1")
    assert refused.value.code == "not_found" and refused.value.client_id == "c1"
    assert Message.objects.count() == before


def test_a_missing_upload_id_stores_nothing_of_the_message(ann, lobby):
    upload = store(ann, lobby)
    with pytest.raises(ChatError):
        send_message(user=ann, room=lobby, body="hi", attachments=[upload.id, upload.id + 99])
    assert not Message.objects.exists()
    assert Attachment.objects.get(pk=upload.pk).message is None


def test_the_broadcast_message_lists_its_attachments(
    ann, lobby, monkeypatch, django_capture_on_commit_callbacks
):
    published = []
    monkeypatch.setattr("jabber.events.publish", lambda *events: published.extend(events))
    upload = store(ann, lobby)
    with django_capture_on_commit_callbacks(execute=True):
        send_message(user=ann, room=lobby, body="see", attachments=[upload.id])
    # The room's message (besides the activity event for members elsewhere).
    (event,) = [event for event in published if isinstance(event, RoomFrame)]
    frame = protocol.decode(event.text)
    assert frame["type"] == "message"
    assert frame["attachments"] == [protocol.attachment_payload(upload, "lobby")]


def test_history_pages_list_attachments(ann, lobby):
    upload = store(ann, lobby)
    send_message(user=ann, room=lobby, body="one")
    send_message(user=ann, room=lobby, body="two", attachments=[upload.id])
    messages, _ = selectors.latest_messages(lobby)
    assert [len(m["attachments"]) for m in messages] == [0, 1]
    assert messages[1]["attachments"][0]["url"] == f"/chat/lobby/files/{upload.id}/"


def test_an_edit_keeps_the_attachments_and_may_clear_the_text(ann, lobby):
    upload = store(ann, lobby)
    message = send_message(user=ann, room=lobby, body="caption", attachments=[upload.id]).message
    edited = edit_message(user=ann, room=lobby, message_id=message.id, body="")
    assert edited.body == ""
    assert Attachment.objects.get(pk=upload.pk).message_id == message.id


def test_purge_removes_uploads_never_sent_within_a_day_with_their_bytes(
    ann, lobby, media, django_capture_on_commit_callbacks
):
    old, fresh = store(ann, lobby, b"old"), store(ann, lobby, b"fresh")
    sent = store(ann, lobby, b"sent")
    send_message(user=ann, room=lobby, body="x", attachments=[sent.id])
    Attachment.objects.filter(pk__in=[old.pk, sent.pk]).update(
        created=clock.utcnow() - timedelta(hours=25)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert purge_uploads() == 1
    assert set(Attachment.objects.values_list("pk", flat=True)) == {fresh.pk, sent.pk}
    assert not (media / old.file.name).exists()
    assert (media / fresh.file.name).exists()


def test_purge_removes_files_of_messages_deleted_longer_ago_than_the_retention(
    ann, lobby, media, settings, django_capture_on_commit_callbacks
):
    settings.JABBER_UPLOAD_RETENTION_DAYS = 30
    image = store(ann, lobby, image_bytes((900, 900)), "big.png")
    recent = store(ann, lobby)
    long_ago = send_message(user=ann, room=lobby, body="x", attachments=[image.id]).message
    lately = send_message(user=ann, room=lobby, body="y", attachments=[recent.id]).message
    delete_message(actor=ann, room=lobby, message_id=long_ago.id)
    delete_message(actor=ann, room=lobby, message_id=lately.id)
    Message.objects.filter(pk=long_ago.pk).update(deleted=clock.utcnow() - timedelta(days=31))
    with django_capture_on_commit_callbacks(execute=True):
        assert purge_uploads() == 1
    assert list(Attachment.objects.all()) == [recent]
    assert not (media / image.file.name).exists() and not (media / image.thumbnail.name).exists()


def test_the_purge_command_reports_what_it_removed(ann, lobby):
    store(ann, lobby)
    Attachment.objects.update(created=clock.utcnow() - timedelta(days=2))
    output = StringIO()
    call_command("purge_uploads", stdout=output)
    assert "Removed 1 upload" in output.getvalue()
