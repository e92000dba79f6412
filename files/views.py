"""Upload and download endpoints: thin adapters over files.services."""

import re
from collections.abc import AsyncIterator, Iterator
from typing import IO

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
    StreamingHttpResponse,
)
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from chat import protocol
from files import services
from files.names import content_disposition
from files.uploads import UploadLimitHandler, too_large_body

BLOCK_SIZE = 64 * 1024
# A file is never a page: no scripts, no plugins, no frames, even if opened directly.
FILE_POLICY = "default-src 'none'; sandbox"
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _error(error: services.UploadError) -> JsonResponse:
    payload: dict = {"error": error.code, "detail": error.detail}
    if error.retry_after is not None:
        payload["retry_after"] = round(error.retry_after, 2)
    response = JsonResponse(payload, status=error.status)
    if error.retry_after is not None:
        response["Retry-After"] = str(int(error.retry_after) + 1)
    return response


@csrf_exempt
def upload(request: HttpRequest, name: str) -> HttpResponse:
    """POST one file (field `file`): answers {"attachment": ATTACHMENT} or a JSON error."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not request.user.is_authenticated:
        return JsonResponse({"error": "not_authenticated", "detail": "Log in first."}, status=401)
    # Before the body is parsed (the CSRF check parses it): stop a file at the limit.
    request.upload_handlers = [UploadLimitHandler(request), *request.upload_handlers]
    return _upload(request, name)


@csrf_protect
def _upload(request: HttpRequest, name: str) -> HttpResponse:
    try:
        room = services.room_for_upload(request.user, name)
        files = request.FILES.getlist("file")
        if getattr(request, "upload_too_large", False):
            return HttpResponse(too_large_body(), status=413, content_type="application/json")
        if len(files) != 1:
            raise services.UploadError(400, "bad_request", "Send one file, in the field 'file'.")
        attachment = services.store_upload(user=request.user, room=room, upload=files[0])
    except services.UploadError as error:
        return _error(error)
    return JsonResponse(
        {"attachment": protocol.attachment_payload(attachment, room.name)}, status=201
    )


def download(request: HttpRequest, name: str, attachment_id: int) -> HttpResponse:
    """An attachment's bytes, to those who may read its room; 404 to everyone else."""
    return _serve(request, name, attachment_id, thumbnail=False)


def thumbnail(request: HttpRequest, name: str, attachment_id: int) -> HttpResponse:
    """An image attachment's thumbnail (WebP, at most 400 px), on the same terms."""
    return _serve(request, name, attachment_id, thumbnail=True)


def _serve(request: HttpRequest, name: str, attachment_id: int, *, thumbnail: bool) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    attachment = services.readable_attachment(request.user, name, attachment_id)
    if attachment is None or (thumbnail and not attachment.thumbnail):
        raise Http404("No such file.")
    stored = attachment.thumbnail if thumbnail else attachment.file
    content_type = "image/webp" if thumbnail else attachment.content_type
    headers = {
        "Content-Disposition": content_disposition(attachment.name),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=3600",
        "Content-Security-Policy": FILE_POLICY,
        "Accept-Ranges": "bytes",
    }
    if settings.JABBER_MEDIA_ACCEL_REDIRECT:
        # nginx sends the bytes (and answers ranges) from its internal location.
        response = HttpResponse(content_type=content_type, headers=headers)
        prefix = settings.JABBER_MEDIA_ACCEL_REDIRECT.rstrip("/")
        response["X-Accel-Redirect"] = f"{prefix}/{stored.name}"
        return response
    size = stored.size
    ranged = _byte_range(request.headers.get("Range"), size)
    if ranged == "unsatisfiable":
        response = HttpResponse(status=416, headers=headers)
        response["Content-Range"] = f"bytes */{size}"
        return response
    start, end = ranged or (0, size - 1)
    length = end - start + 1
    file = stored.storage.open(stored.name, "rb")
    file.seek(start)
    if request.method == "HEAD":
        file.close()
        content: Iterator[bytes] | AsyncIterator[bytes] = iter(())
    elif isinstance(request, ASGIRequest):
        # A synchronous iterator would be read whole into memory by Django's ASGI handler.
        content = _read_async(file, length)
    else:
        content = _read(file, length)
    response = StreamingHttpResponse(
        content, status=206 if ranged else 200, content_type=content_type, headers=headers
    )
    response["Content-Length"] = str(length)
    if ranged:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response


def _byte_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """One `bytes=a-b` range as (first, last) byte; None to send it all (no range, several
    ranges, or one we do not understand), "unsatisfiable" for a range outside the file."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last n bytes
        suffix = int(last)
        if suffix == 0:
            return "unsatisfiable"
        return max(0, size - suffix), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return "unsatisfiable"
    return start, end


def _read(file: IO[bytes], length: int) -> Iterator[bytes]:
    try:
        while length > 0:
            block = file.read(min(BLOCK_SIZE, length))
            if not block:
                break
            length -= len(block)
            yield block
    finally:
        file.close()


async def _read_async(file: IO[bytes], length: int) -> AsyncIterator[bytes]:
    read = sync_to_async(file.read)
    try:
        while length > 0:
            block = await read(min(BLOCK_SIZE, length))
            if not block:
                break
            length -= len(block)
            yield block
    finally:
        await sync_to_async(file.close)()
