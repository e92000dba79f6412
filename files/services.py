"""Uploads: who may upload where, the limits, storing one file, purging the unused."""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q, Sum

from chat import access, selectors
from chat.models import Attachment, Room
from chat.services import ChatError
from chat.services.messages import check_may_write
from files import images
from files.names import display_name
from jabber import clock
from jabber.ratelimit import Bucket

# Types a download may keep as the browser declared them (it is always served as a
# download, with nosniff); anything else is application/octet-stream.
SAFE_TYPES = frozenset(
    {"application/pdf", "text/plain", "text/csv", "application/zip", "application/gzip",
     "application/json", "audio/mpeg", "audio/ogg", "video/mp4", "video/webm"}
)  # fmt: skip
DOWNLOAD_TYPE = "application/octet-stream"


@dataclass
class UploadError(Exception):
    """An upload refused: HTTP status, error code (docs/protocol.md#post-chatroomupload), why."""

    status: int
    code: str
    detail: str
    retry_after: float | None = None


def upload_bucket() -> Bucket:
    return Bucket("upload", settings.JABBER_UPLOAD_BURST, settings.JABBER_UPLOAD_PER_SECOND)


def room_for_upload(user, room_name: str) -> Room:
    """The room the user may upload to now (and a rate-limit token taken), or UploadError.

    Uploads follow sending: a reader of the room, not banned, muted, or locked out.
    """
    room = Room.objects.filter(name=room_name).first()
    if room is None or not user.is_active or not access.is_visible(user, room):
        raise UploadError(404, "not_found", "No such room.")
    ban = selectors.active_ban(user.pk, room)
    if ban is not None:
        raise UploadError(403, "banned", "You are banned from this room.")
    try:
        check_may_write(user, room, None, muted=bool(selectors.muted_pairs({(user.pk, room.pk)})))
    except ChatError as error:
        raise UploadError(403, error.code, error.detail) from None
    wait = upload_bucket().take(user.pk)
    if wait:
        raise UploadError(429, "rate_limited", "You are uploading too fast.", retry_after=wait)
    return room


def uploaded_today(user_id: int) -> int:
    """Bytes the user stored in the last 24 hours (the daily quota counts these)."""
    since = clock.utcnow() - timedelta(days=1)
    total = Attachment.objects.filter(uploader_id=user_id, created__gte=since).aggregate(
        total=Sum("size")
    )["total"]
    return total or 0


def store_upload(*, user, room: Room, upload: UploadedFile) -> Attachment:
    """Check one uploaded file against the limits, clean it if it is an image, and store it."""
    if upload.size == 0:
        raise UploadError(400, "empty", "The file is empty.")
    if upload.size > settings.JABBER_MAX_UPLOAD:
        raise UploadError(413, "too_large", _too_large_detail())
    if uploaded_today(user.pk) + upload.size > settings.JABBER_UPLOAD_DAILY:
        raise UploadError(
            413,
            "quota",
            f"You may upload {settings.JABBER_UPLOAD_DAILY // 2**20} MiB a day; try tomorrow.",
        )
    try:
        image = images.process(upload)
    except images.ImageRefused as error:
        status = 413 if error.code == "too_large" else 400
        raise UploadError(status, error.code, error.detail) from None
    attachment = Attachment(
        uploader=user, room=room, name=display_name(upload.name or ""), created=clock.utcnow()
    )
    if image is None:
        declared = (upload.content_type or "").split(";")[0].strip().lower()
        upload.seek(0)
        attachment.content_type = declared if declared in SAFE_TYPES else DOWNLOAD_TYPE
        attachment.sha256 = _sha256(upload)
        attachment.size = upload.size
        content: File = upload
    else:
        attachment.content_type = image.content_type
        attachment.width, attachment.height = image.width, image.height
        attachment.sha256 = hashlib.sha256(image.data).hexdigest()
        attachment.size = len(image.data)
        content = ContentFile(image.data)
        if image.thumbnail is not None:
            attachment.thumbnail.save("thumbnail", ContentFile(image.thumbnail), save=False)
    # The name passed is ignored: chat.models.attachment_path makes a random one.
    attachment.file.save("upload", content, save=False)
    attachment.save()
    return attachment


def _too_large_detail() -> str:
    return f"Files are at most {settings.JABBER_MAX_UPLOAD // 2**20} MiB."


def _sha256(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def readable_attachment(user, room_name: str, attachment_id: int) -> Attachment | None:
    """The attachment if the user may fetch it now: in a room they read, carried by a visible
    message (or their own upload not sent yet). None for anything else, as for no such file."""
    attachment = (
        Attachment.objects.select_related("room", "message")
        .filter(pk=attachment_id, room__name=room_name)
        .first()
    )
    if attachment is None or not access.may_read(user, attachment.room):
        return None
    if attachment.message is None:
        return attachment if attachment.uploader_id == user.pk else None
    return attachment if attachment.message.deleted is None else None


def purge_uploads() -> int:
    """Delete uploads never attached within 24 hours, and the files of messages deleted more
    than JABBER_UPLOAD_RETENTION_DAYS ago; returns how many. Their bytes go with the rows."""
    now = clock.utcnow()
    stale = Q(message__isnull=True, created__lt=now - timedelta(days=1)) | Q(
        message__deleted__lt=now - timedelta(days=settings.JABBER_UPLOAD_RETENTION_DAYS)
    )
    # Each row's post_delete removes its stored files (files.signals).
    count, _ = Attachment.objects.filter(stale).delete()
    return count
