"""POST /chat/<room>/upload/ and the file URLs (SPEC §14): limits, access, headers, ranges."""

import io

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from chat.models import Attachment, Membership, Room
from chat.services import delete_message, send_message
from chat.tests.factories import BanFactory, MuteFactory, RoomFactory
from files.tests.factories import (
    image_bytes,
    photo_with_gps,
    png_bomb,
    polyglot_gif,
    store,
    uploaded,
)

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, room: str, data: bytes, name="file.bin", content_type=None):
    file = uploaded(data, name, content_type or "application/octet-stream")
    return client.post(f"/chat/{room}/upload/", {"file": file})


def stored_files(media) -> list:
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


def fetch(client: Client, url: str, **headers):
    response = client.get(url, headers=headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


# Uploading ------------------------------------------------------------------


def test_upload_of_an_image_answers_its_attachment_with_a_thumbnail(ann, lobby):
    response = upload(client_of(ann), "lobby", image_bytes((800, 600)), "cat.png", "image/png")
    assert response.status_code == 201
    attachment = response.json()["attachment"]
    (row,) = Attachment.objects.all()
    assert attachment == {
        "id": row.id,
        "name": "cat.png",
        "size": row.size,
        "content_type": "image/png",
        "url": f"/chat/lobby/files/{row.id}/",
        "thumbnail_url": f"/chat/lobby/files/{row.id}/thumbnail/",
        "width": 800,
        "height": 600,
    }
    assert row.uploader == ann and row.room == lobby and row.message is None


def test_a_small_image_is_its_own_thumbnail(ann, lobby):
    attachment = upload(client_of(ann), "lobby", image_bytes((300, 200))).json()["attachment"]
    assert attachment["thumbnail_url"] == attachment["url"]
    assert (attachment["width"], attachment["height"]) == (300, 200)


def test_thumbnail_is_at_most_400_pixels(ann, lobby):
    client = client_of(ann)
    attachment = upload(client, "lobby", image_bytes((1600, 900))).json()["attachment"]
    response, body = fetch(client, attachment["thumbnail_url"])
    assert response["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(body)).size == (400, 225)


def test_a_photo_is_turned_upright_and_loses_its_exif_gps_and_comment(ann, lobby):
    client = client_of(ann)
    data = photo_with_gps((40, 20), orientation=6)
    attachment = upload(client, "lobby", data, "me.jpg").json()["attachment"]
    assert (attachment["width"], attachment["height"]) == (20, 40)
    _, body = fetch(client, attachment["url"])
    image = Image.open(io.BytesIO(body))
    assert image.size == (20, 40)
    assert not image.getexif() and "exif" not in image.info and "comment" not in image.info
    assert b"taken at home" not in body


def test_images_are_recognised_by_content_not_name(ann, lobby):
    client = client_of(ann)
    disguised = upload(client, "lobby", image_bytes(format="WEBP"), "report.pdf").json()
    assert disguised["attachment"]["content_type"] == "image/webp"
    html = upload(client, "lobby", b"<html><script>1</script>", "kitten.png", "image/png").json()
    assert html["attachment"]["content_type"] == "application/octet-stream"
    assert html["attachment"]["thumbnail_url"] is None and html["attachment"]["width"] is None


def test_a_truncated_image_is_refused_and_nothing_stored(ann, lobby, media):
    data = image_bytes((200, 200), color="blue")[:-60]
    response = upload(client_of(ann), "lobby", data, "cut.png")
    assert response.status_code == 400 and response.json()["error"] == "bad_image"
    assert not Attachment.objects.exists() and not stored_files(media)


def test_a_corrupt_image_is_refused_and_nothing_stored(ann, lobby, media):
    data = image_bytes((50, 50), "JPEG")
    corrupt = data[:200] + bytes(range(256)) * 4 + data[-2:]
    response = upload(client_of(ann), "lobby", corrupt, "broken.jpg")
    assert response.status_code == 400 and response.json()["error"] == "bad_image"
    assert not Attachment.objects.exists() and not stored_files(media)


def test_a_png_decompression_bomb_is_refused(ann, lobby, media):
    response = upload(client_of(ann), "lobby", png_bomb(), "bomb.png")
    assert response.status_code == 413 and response.json()["error"] == "too_large"
    assert not Attachment.objects.exists() and not stored_files(media)


def test_an_image_over_the_pixel_limit_is_refused(ann, lobby, settings):
    settings.JABBER_MAX_IMAGE_PIXELS = 100 * 100
    response = upload(client_of(ann), "lobby", image_bytes((101, 100)), "big.png")
    assert response.status_code == 413 and response.json()["error"] == "too_large"


def test_a_polyglot_gif_is_stored_without_its_html_and_served_as_a_download(ann, lobby):
    client = client_of(ann)
    attachment = upload(client, "lobby", polyglot_gif(), "cat.gif.html", "text/html").json()
    attachment = attachment["attachment"]
    assert attachment["content_type"] == "image/gif"
    response, body = fetch(client, attachment["url"])
    assert b"<script" not in body and body.startswith(b"GIF8")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_animated_gif_keeps_its_frames(ann, lobby):
    frames = [Image.new("RGB", (10, 10), color) for color in ("red", "green", "blue")]
    output = io.BytesIO()
    frames[0].save(output, format="GIF", save_all=True, append_images=frames[1:], duration=50)
    client = client_of(ann)
    attachment = upload(client, "lobby", output.getvalue(), "a.gif").json()["attachment"]
    _, body = fetch(client, attachment["url"])
    assert Image.open(io.BytesIO(body)).n_frames == 3


def test_svg_and_html_are_stored_as_they_are_and_served_as_downloads(ann, lobby):
    client = client_of(ann)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    attachment = upload(client, "lobby", svg, "logo.svg", "image/svg+xml").json()["attachment"]
    assert attachment["content_type"] == "application/octet-stream"
    response, body = fetch(client, attachment["url"])
    assert body == svg
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response["Content-Security-Policy"]


def test_a_pdf_keeps_its_type_and_is_a_download(ann, lobby):
    client = client_of(ann)
    data = b"%PDF-1.4\n%%EOF\n"
    attachment = upload(client, "lobby", data, "a.pdf", "application/pdf").json()["attachment"]
    assert attachment["content_type"] == "application/pdf"
    response, _ = fetch(client, attachment["url"])
    assert response["Content-Disposition"].startswith("attachment;")


def test_an_empty_file_is_refused(ann, lobby):
    response = upload(client_of(ann), "lobby", b"", "empty.txt")
    assert response.status_code == 400 and response.json()["error"] == "empty"
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ann\\secret.txt", "secret.txt"),
        ("evil\x00.txt.exe", "evil.txt.exe"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("x" * 1000 + ".txt", "x" * 196 + ".txt"),
    ],
)
def test_filenames_are_sanitised_and_never_used_as_a_path(ann, lobby, media, sent, shown):
    response = upload(client_of(ann), "lobby", b"data", sent)
    assert response.status_code == 201
    assert response.json()["attachment"]["name"] == shown
    (path,) = stored_files(media)
    assert path.parent.parent.parent == media / "attachments"
    assert len(path.name) == 32 and path.name.isalnum()


def test_a_file_over_the_limit_is_refused_with_413_and_nothing_stored(ann, lobby, media, settings):
    settings.JABBER_MAX_UPLOAD = 1000
    response = upload(client_of(ann), "lobby", b"x" * 1001, "big.txt")
    assert response.status_code == 413 and response.json()["error"] == "too_large"
    assert not Attachment.objects.exists() and not stored_files(media)


def test_a_file_at_the_limit_is_taken(ann, lobby, settings):
    settings.JABBER_MAX_UPLOAD = 1000
    assert upload(client_of(ann), "lobby", b"x" * 1000, "ok.txt").status_code == 201


def test_the_daily_quota_is_413_and_stores_nothing(ann, lobby, settings):
    settings.JABBER_UPLOAD_DAILY = 1500
    client = client_of(ann)
    assert upload(client, "lobby", b"x" * 1000).status_code == 201
    response = upload(client, "lobby", b"x" * 600)
    assert response.status_code == 413 and response.json()["error"] == "quota"
    assert Attachment.objects.count() == 1


def test_uploads_are_rate_limited(ann, lobby, settings):
    settings.JABBER_UPLOAD_BURST = 2
    client = client_of(ann)
    assert [upload(client, "lobby", b"x").status_code for _ in range(2)] == [201, 201]
    response = upload(client, "lobby", b"x")
    assert response.status_code == 429 and response.json()["error"] == "rate_limited"
    assert response.json()["retry_after"] > 0 and Attachment.objects.count() == 2


def test_upload_needs_a_login(lobby):
    response = upload(Client(), "lobby", b"x")
    assert response.status_code == 401 and not Attachment.objects.exists()


def test_upload_needs_the_csrf_token(ann, lobby):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ann)
    assert upload(client, "lobby", b"x").status_code == 403
    assert not Attachment.objects.exists()


def test_upload_to_a_private_room_of_others_is_404(ann):
    RoomFactory(name="secret", kind=Room.Kind.PRIVATE)
    response = upload(client_of(ann), "secret", b"x")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_upload_to_a_room_that_does_not_exist_is_404(ann):
    assert upload(client_of(ann), "nowhere", b"x").status_code == 404
    assert not Room.objects.filter(name="nowhere").exists()


@pytest.mark.parametrize("rule", ["banned", "muted", "room_locked"])
def test_those_who_may_not_send_may_not_upload(ann, lobby, rule):
    if rule == "banned":
        BanFactory(user=ann, room=lobby)
    elif rule == "muted":
        MuteFactory(user=ann, room=lobby)
    else:
        Room.objects.filter(pk=lobby.pk).update(locked=True)
    response = upload(client_of(ann), "lobby", b"x")
    assert response.status_code == 403 and response.json()["error"] == rule
    assert not Attachment.objects.exists()


# Serving --------------------------------------------------------------------


def test_an_unsent_upload_is_served_to_its_uploader_only(ann, bob, lobby):
    attachment = store(ann, lobby, b"draft")
    url = f"/chat/lobby/files/{attachment.id}/"
    assert fetch(client_of(ann), url)[1] == b"draft"
    assert client_of(bob).get(url).status_code == 404


def test_a_sent_file_is_served_to_every_reader_with_safe_headers(ann, bob, lobby):
    attachment = store(ann, lobby, b"report", name="Résumé «final».txt")
    send_message(user=ann, room=lobby, body="", attachments=[attachment.id])
    response, body = fetch(client_of(bob), f"/chat/lobby/files/{attachment.id}/")
    assert response.status_code == 200 and body == b"report"
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Length"] == "6"
    assert response["Content-Disposition"] == (
        'attachment; filename="R_sum_ _final_.txt"; '
        "filename*=UTF-8''R%C3%A9sum%C3%A9%20%C2%ABfinal%C2%BB.txt"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("private")


def test_files_of_a_private_room_are_404_to_non_members(ann, bob):
    secret = RoomFactory(name="secret", kind=Room.Kind.PRIVATE)
    Membership.objects.create(user=ann, room=secret)
    attachment = store(ann, secret)
    send_message(user=ann, room=secret, body="see", attachments=[attachment.id])
    url = f"/chat/secret/files/{attachment.id}/"
    assert client_of(ann).get(url).status_code == 200
    assert client_of(bob).get(url).status_code == 404
    assert Client().get(url).status_code == 404


def test_files_are_404_to_a_user_banned_from_the_room(ann, bob, lobby):
    attachment = store(ann, lobby)
    send_message(user=ann, room=lobby, body="x", attachments=[attachment.id])
    BanFactory(user=bob, room=lobby)
    assert client_of(bob).get(f"/chat/lobby/files/{attachment.id}/").status_code == 404


def test_files_of_a_deleted_message_are_served_to_nobody(ann, lobby):
    attachment = store(ann, lobby)
    message = send_message(user=ann, room=lobby, body="x", attachments=[attachment.id]).message
    delete_message(actor=ann, room=lobby, message_id=message.id)
    assert client_of(ann).get(f"/chat/lobby/files/{attachment.id}/").status_code == 404


def test_a_file_is_404_under_another_rooms_url(ann, lobby):
    RoomFactory(name="other")
    attachment = store(ann, lobby)
    assert client_of(ann).get(f"/chat/other/files/{attachment.id}/").status_code == 404


def test_a_file_without_a_thumbnail_has_no_thumbnail_url(ann, lobby):
    attachment = store(ann, lobby)
    url = f"/chat/lobby/files/{attachment.id}/thumbnail/"
    assert client_of(ann).get(url).status_code == 404


@pytest.mark.parametrize(
    ("header", "status", "expected", "content_range"),
    [
        ("bytes=2-5", 206, b"2345", "bytes 2-5/10"),
        ("bytes=7-", 206, b"789", "bytes 7-9/10"),
        ("bytes=-3", 206, b"789", "bytes 7-9/10"),
        ("bytes=8-100", 206, b"89", "bytes 8-9/10"),
        ("bytes=0-1,4-5", 200, b"0123456789", None),
        ("pages=1-2", 200, b"0123456789", None),
    ],
)
def test_single_byte_ranges_are_answered(ann, lobby, header, status, expected, content_range):
    attachment = store(ann, lobby, b"0123456789")
    response, body = fetch(client_of(ann), f"/chat/lobby/files/{attachment.id}/", Range=header)
    assert response.status_code == status and body == expected
    assert response["Content-Length"] == str(len(expected))
    assert response.get("Content-Range") == content_range


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=5-2", "bytes=-0"])
def test_a_range_outside_the_file_is_416(ann, lobby, header):
    attachment = store(ann, lobby, b"0123456789")
    response = client_of(ann).get(f"/chat/lobby/files/{attachment.id}/", headers={"Range": header})
    assert response.status_code == 416 and response["Content-Range"] == "bytes */10"


def test_with_accel_redirect_nginx_sends_the_bytes_after_the_check(ann, bob, lobby, settings):
    settings.JABBER_MEDIA_ACCEL_REDIRECT = "/protected-media/"
    attachment = store(ann, lobby)
    url = f"/chat/lobby/files/{attachment.id}/"
    response = client_of(ann).get(url)
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected-media/{attachment.file.name}"
    assert response["Content-Disposition"].startswith("attachment;")
    assert client_of(bob).get(url).status_code == 404


def test_the_urls_in_an_attachment_are_the_ones_files_urls_serve(ann, lobby):
    attachment = upload(client_of(ann), "lobby", image_bytes((900, 100))).json()["attachment"]
    assert attachment["url"] == reverse(
        "files:download", kwargs={"name": "lobby", "attachment_id": attachment["id"]}
    )
    assert attachment["thumbnail_url"] == reverse(
        "files:thumbnail", kwargs={"name": "lobby", "attachment_id": attachment["id"]}
    )


def test_head_answers_the_headers_without_the_bytes(ann, lobby):
    attachment = store(ann, lobby, b"0123456789")
    response = client_of(ann).head(f"/chat/lobby/files/{attachment.id}/")
    assert response.status_code == 200 and response["Content-Length"] == "10"
    assert b"".join(response.streaming_content) == b""
