"""Scale-out (SPEC §8, §14): two server processes on one database, one Redis and one
MEDIA_ROOT serve each other's uploads.

Real daphne processes on loopback ports, real HTTP and WebSocket clients. Run on
PostgreSQL with ``python -m tests.support.with_services -- pytest files/tests/test_scale_out.py``.
"""

from __future__ import annotations

import http.client
import io
import json
import uuid
from http.cookies import SimpleCookie
from pathlib import Path

from PIL import Image

from tests.support.clients import (
    UserSpec,
    create_user_sessions,
    recv_until,
    run_async,
    ws_connect,
)
from tests.support.services import ServerProcess

ROOM = "shared"


def request(
    server: ServerProcess,
    method: str,
    path: str,
    cookies: dict[str, str],
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One HTTP request to one process: (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        all_headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        all_headers.update(headers or {})
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def upload(server: ServerProcess, session: str, name: str, data: bytes) -> dict:
    """POST one file as the browser does (CSRF cookie and header); the ATTACHMENT."""
    status, headers, _ = request(server, "GET", f"/chat/{ROOM}/", {"sessionid": session})
    assert status == 200
    cookie = SimpleCookie()
    for value in headers.get_all("Set-Cookie") or []:
        cookie.load(value)
    token = cookie["csrftoken"].value
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, _, answer = request(
        server,
        "POST",
        f"/chat/{ROOM}/upload/",
        {"sessionid": session, "csrftoken": token},
        body=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-CSRFToken": token,
        },
    )
    assert status == 201, answer
    return json.loads(answer)["attachment"]


def test_two_processes_serve_each_others_uploads(start_server, shared_env, tmp_path: Path):
    env = {**shared_env, "JABBER_MEDIA_ROOT": str(tmp_path / "media")}
    first, second = start_server(env), start_server(env)
    ann, bob = create_user_sessions(env, [UserSpec("ann"), UserSpec("bob")])
    picture = io.BytesIO()
    Image.new("RGB", (900, 300), "orange").save(picture, format="PNG")
    image = upload(first, ann.session, "sunset.png", picture.getvalue())
    notes = upload(first, ann.session, "notes.txt", b"0123456789" * 1000)

    async def send_and_receive() -> dict:
        async with (
            ws_connect(first, ROOM, ann.session) as sender,
            ws_connect(second, ROOM, bob.session) as reader,
        ):
            await recv_until(sender, "hello")
            await recv_until(reader, "hello")
            frame = {"type": "message", "body": "", "attachments": [image["id"], notes["id"]]}
            await sender.send(json.dumps(frame))
            return await recv_until(reader, "message")

    message = run_async(send_and_receive())
    assert message["attachments"] == [image, notes]

    # Bob's process stores nothing itself: it reads what ann's process wrote.
    status, headers, body = request(
        second, "GET", image["thumbnail_url"], {"sessionid": bob.session}
    )
    assert status == 200 and headers["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(body)).size == (400, 133)
    status, headers, body = request(
        second, "GET", notes["url"], {"sessionid": bob.session}, headers={"Range": "bytes=10-19"}
    )
    assert status == 206 and body == b"0123456789"
    assert headers["Content-Range"] == "bytes 10-19/10000"
    status, _, body = request(second, "GET", notes["url"], {"sessionid": bob.session})
    assert status == 200 and body == b"0123456789" * 1000
