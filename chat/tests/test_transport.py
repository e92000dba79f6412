"""Room frames encoded once are valid frames, and reach clients through each server's adapter."""

import asyncio
import contextlib
import logging
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Frame, Opcode
from websockets.protocol import Protocol, Side, State

from chat import transport
from chat.transport import uvicorn as uvicorn_adapters
from chat.transport.uvicorn import SansIOConnection
from tests.support.services import REPO_ROOT


def received_by_a_client(data: bytes, *, deflate: bool = False) -> list[Frame]:
    """What websockets' own client parser makes of these bytes on an open connection."""
    client = Protocol(Side.CLIENT, state=State.OPEN, max_size=None)
    if deflate:
        client.extensions = [PerMessageDeflate(False, False, 15, 15)]
    client.receive_data(data)
    return client.events_received()


@pytest.mark.parametrize(
    "text",
    [
        "{}",
        "x" * 125,  # the longest with a 7-bit length
        "x" * 126,  # the shortest with a 16-bit length
        "€" * 21_845,  # 65,535 bytes: the longest with a 16-bit length
        "x" * 65_536,  # the shortest with a 64-bit length
        '{"body":"grüße, 你好, 🎉"}',
    ],
)
def test_encoded_frame_is_one_final_text_frame_with_the_text(text):
    (frame,) = received_by_a_client(transport.encode_wire(text))
    assert frame.opcode is Opcode.TEXT and frame.fin
    assert frame.data.decode("utf-8") == text


def test_encoded_frames_follow_each_other_on_one_stream():
    data = b"".join(transport.encode_wire(f'{{"seq":{n}}}') for n in range(1, 4))
    frames = received_by_a_client(data)
    assert [frame.data for frame in frames] == [b'{"seq":1}', b'{"seq":2}', b'{"seq":3}']


def test_encoded_frame_is_read_as_is_where_compression_was_negotiated():
    # RSV1 clear: the message is not compressed, though the connection may compress others.
    (frame,) = received_by_a_client(transport.encode_wire('{"type":"message"}'), deflate=True)
    assert frame.data == b'{"type":"message"}' and not frame.rsv1


# The fast path below ASGI, on real uvicorn servers in this process -----------------

Script = Callable[[transport.Connection], Awaitable[None]]


@pytest.fixture(autouse=True)
def adapters_chosen_afresh(monkeypatch):
    """Each test's first socket chooses its server's adapter again, and logs it."""
    monkeypatch.setattr(transport, "_chosen", {})


@contextlib.asynccontextmanager
async def uvicorn_serving(ws: str, script: Script) -> AsyncIterator[str]:
    """A real uvicorn running script(connection) on each socket it accepts; yields its URL."""

    async def application(scope, receive, send) -> None:
        if scope["type"] != "websocket":
            return
        await receive()
        await send({"type": "websocket.accept"})
        await script(transport.connection_for(send))
        with contextlib.suppress(RuntimeError, OSError):  # closed or cut off by the script
            await send({"type": "websocket.close", "code": 1000})

    listener = socket.create_server(("127.0.0.1", 0))  # listening: clients queue until served
    config = uvicorn.Config(application, ws=ws, lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        yield f"ws://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)
        listener.close()


async def texts_received_on_uvicorn(ws: str, script: Script, sockets: int = 1) -> list[list[str]]:
    """What each of `sockets` clients, one after the other, reads from script on uvicorn."""
    async with uvicorn_serving(ws, script) as url:
        received = []
        for _ in range(sockets):
            async with connect(url) as client:
                received.append([text async for text in client])
        return received


def deliver_each(texts: list[str], engaged: list[str]) -> Script:
    async def script(connection: transport.Connection) -> None:
        engaged.append(connection.name)
        for text in texts:
            await connection.deliver(text, transport.encode_wire(text))

    return script


# uvicorn's --ws websockets, deprecated by uvicorn and built on websockets' legacy API
LEGACY = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::uvicorn.config.UvicornDeprecationWarning"),
]


@pytest.mark.parametrize(
    ("ws", "adapter"),
    [
        ("websockets-sansio", "uvicorn-sansio"),
        ("auto", "uvicorn-sansio"),
        pytest.param("websockets", "uvicorn-websockets", marks=LEGACY),
    ],
)
async def test_fast_path_engages_on_uvicorn_and_writes_the_frames(ws, adapter, caplog):
    caplog.set_level(logging.INFO, logger="chat.transport")
    engaged: list[str] = []
    texts = ['{"seq":1}', "x" * 70_000, '{"seq":3}']
    received = await texts_received_on_uvicorn(ws, deliver_each(texts, engaged), sockets=2)
    assert engaged == [adapter, adapter]
    assert received == [texts, texts]
    assert caplog.messages.count(f"transport: {adapter} fast path engaged") == 1


async def test_an_adapter_missing_an_attribute_logs_once_and_frames_take_the_asgi_send(
    monkeypatch, caplog
):
    # As if an upgrade of websockets had renamed the connection's state.
    monkeypatch.setattr(SansIOConnection, "requires", ("conn.renamed_state",))
    engaged: list[str] = []
    texts = ['{"seq":1}', '{"seq":2}']
    received = await texts_received_on_uvicorn(
        "websockets-sansio", deliver_each(texts, engaged), sockets=2
    )
    assert engaged == ["asgi", "asgi"]
    assert received == [texts, texts]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "conn.renamed_state" in warnings[0]


async def test_an_upgraded_server_engages_but_asks_for_the_adapter_to_be_checked_again(
    monkeypatch, caplog
):
    monkeypatch.setattr(uvicorn_adapters, "CHECKED_AGAINST", (("uvicorn", "0.1.0"),))
    engaged: list[str] = []
    received = await texts_received_on_uvicorn("websockets-sansio", deliver_each(["{}"], engaged))
    assert engaged == ["uvicorn-sansio"] and received == [["{}"]]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "transport: uvicorn-sansio adapter checked against uvicorn 0.1.0, "
        f"running on uvicorn {uvicorn.__version__}; re-check it"
    ]


@pytest.mark.parametrize("ws", ["websockets-sansio", pytest.param("websockets", marks=LEGACY)])
async def test_a_frame_after_the_close_is_refused_by_the_server_not_dropped(ws):
    outcome: list[str] = []

    async def close_then_deliver(connection: transport.Connection) -> None:
        await connection.send({"type": "websocket.close", "code": 1000})
        try:
            await connection.deliver('{"seq":1}', transport.encode_wire('{"seq":1}'))
        except Exception as error:
            outcome.append(type(error).__name__)
        else:
            outcome.append("returned as if sent")

    received = await texts_received_on_uvicorn(ws, close_then_deliver)
    assert received == [[]]
    assert outcome == ["RuntimeError"]


async def test_a_frame_the_fast_path_declines_on_an_open_socket_is_sent_all_the_same():
    texts = ['{"seq":1}', '{"seq":2}']
    engaged: list[str] = []

    async def misread_as_closing(connection: transport.Connection) -> None:
        # As if an upgrade changed how a closing socket shows: the frames still arrive.
        connection.transport.is_closing = lambda: True
        try:
            await deliver_each(texts, engaged)(connection)
        finally:
            del connection.transport.is_closing

    received = await texts_received_on_uvicorn("websockets-sansio", misread_as_closing)
    assert engaged == ["uvicorn-sansio"] and received == [texts]


@pytest.mark.parametrize("ws", ["websockets-sansio", pytest.param("websockets", marks=LEGACY)])
async def test_a_reader_that_stalls_shows_its_backlog_and_is_cut_off(ws):
    backlogs: list[int | None] = []

    async def flood_then_cut_off(connection: transport.Connection) -> None:
        connection.allow_buffering(4_000_000)
        text = "x" * 60_000
        frame = transport.encode_wire(text)
        # Written without yielding to the loop, so what the socket cannot take at once queues.
        for _ in range(1_000):
            await connection.deliver(text, frame)
            if connection.buffered_bytes() > 1_000_000:
                break
        backlogs.append(connection.buffered_bytes())
        assert connection.abort()

    async with uvicorn_serving(ws, flood_then_cut_off) as url:
        async with connect(url, max_size=None) as client:
            with pytest.raises(ConnectionClosedError):
                async for _ in client:
                    pass
    assert backlogs[0] > 1_000_000


async def test_unknown_servers_get_the_asgi_send():
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    connection = transport.connection_for(send)
    await connection.deliver("{}", transport.encode_wire("{}"))
    assert connection.name == "asgi" and connection.buffered_bytes() is None
    assert sent == [{"type": "websocket.send", "text": "{}"}]


def test_the_transport_imports_without_daphnes_stack():
    blocked = (
        "import sys\nfor name in ('daphne', 'autobahn', 'twisted'):\n    sys.modules[name] = None\n"
    )
    code = (
        blocked + "import chat.transport, chat.transport.uvicorn\nprint(chat.transport.PEER_GONE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(<class 'OSError'>,)"
