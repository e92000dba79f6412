"""On a real uvicorn (the production server): an upload declaring more than the limit is
refused at once. (daphne takes a whole request body before the application sees it, so
there only nginx's client_max_body_size and the upload handler stop one.)"""

from __future__ import annotations

import json
import socket

from tests.support.clients import UserSpec, create_user_sessions


def test_uvicorn_answers_413_to_an_oversized_upload_before_reading_it(start_server, live_env):
    server = start_server(live_env, kind="uvicorn")
    (ann,) = create_user_sessions(live_env, [UserSpec("ann")])
    head = (
        "POST /chat/lobby/upload/ HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        f"Cookie: sessionid={ann.session}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n"
        "Content-Length: 40000000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as connection:
        # Headers only: the 40 MB body never comes, and the answer does not wait for it.
        connection.sendall(head.encode())
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"413"
    assert json.loads(rest.partition(b"\r\n\r\n")[2])["error"] == "too_large"
