"""Frames the hub encodes once for a whole room are valid WebSocket frames."""

import pytest
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Frame, Opcode
from websockets.protocol import Protocol, Side, State

from chat import transport


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
    (frame,) = received_by_a_client(transport.encode_frame(text))
    assert frame.opcode is Opcode.TEXT and frame.fin
    assert frame.data.decode("utf-8") == text


def test_encoded_frames_follow_each_other_on_one_stream():
    data = b"".join(transport.encode_frame(f'{{"seq":{n}}}') for n in range(1, 4))
    frames = received_by_a_client(data)
    assert [frame.data for frame in frames] == [b'{"seq":1}', b'{"seq":2}', b'{"seq":3}']


def test_encoded_frame_is_read_as_is_where_compression_was_negotiated():
    # RSV1 clear: the message is not compressed, though the connection may compress others.
    (frame,) = received_by_a_client(transport.encode_frame('{"type":"message"}'), deflate=True)
    assert frame.data == b'{"type":"message"}' and not frame.rsv1
