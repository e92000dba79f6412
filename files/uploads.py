"""Request bodies cut off at the upload limit, before they fill a disk.

Two layers: an ASGI wrapper that answers 413 once a request body passes the
limit (Django's ASGI handler would otherwise spool any body whole before a
view runs), and an upload handler that stops a multipart file at the limit.
The wrapper acts as the body streams in under uvicorn; daphne reads a whole body
before calling the application, so there nginx's client_max_body_size is the
early limit (docs/deploy.md).
"""

import json
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

# Room for the multipart boundaries, headers and the CSRF field around the file.
MULTIPART_SLACK = 64 * 1024


def too_large_body() -> bytes:
    detail = f"Files are at most {settings.JABBER_MAX_UPLOAD // 2**20} MiB."
    return json.dumps({"error": "too_large", "detail": detail}).encode()


class UploadLimitHandler(FileUploadHandler):
    """Stops a multipart upload as soon as one file passes JABBER_MAX_UPLOAD.

    The request is then marked `upload_too_large`, and the view answers 413.
    """

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > settings.JABBER_MAX_UPLOAD:
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


class BodySizeLimit:
    """ASGI: an HTTP request whose body passes JABBER_MAX_UPLOAD (and slack) gets 413."""

    def __init__(self, application: Callable[..., Awaitable[None]]) -> None:
        self.application = application

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.application(scope, receive, send)
            return
        limit = settings.JABBER_MAX_UPLOAD + MULTIPART_SLACK
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _answer_too_large(send)
            return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> dict:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Django takes a disconnect as the end of the request and answers nothing.
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def watching_send(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.application(scope, counting_receive, watching_send)
        if exceeded and not started:
            await _answer_too_large(send)


def _content_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _answer_too_large(send: Send) -> None:
    body = too_large_body()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
