"""The real-server helper talks only to the server it started, even on a shared machine."""

import http.server
import threading

import pytest

from tests.support import services
from tests.support.services import ServerProcess

pytestmark = pytest.mark.live


class AlwaysHealthy(http.server.BaseHTTPRequestHandler):
    """Another test run's server: answers 200 to everything, /healthz included."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()

    def log_message(self, *arguments) -> None:
        pass


def test_a_server_whose_port_another_run_took_starts_on_another_port(
    sqlite_env, tmp_path, monkeypatch
):
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AlwaysHealthy)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    taken = other.server_address[1]
    # The port looked free when it was picked; the other run bound it first.
    picks = iter([taken])
    free_port = services.free_port
    monkeypatch.setattr(services, "free_port", lambda: next(picks, None) or free_port())
    server = ServerProcess(sqlite_env, log_dir=tmp_path)
    try:
        server.start()
        assert server.port != taken
        assert services._listens_on(server.pid, server.port)
    finally:
        server.stop()
        other.shutdown()
        other.server_close()
