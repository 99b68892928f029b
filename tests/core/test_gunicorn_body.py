"""The web worker's request body gives the bytes gunicorn's own would, whatever the read
sizes, for a Content-Length body and a chunked one, with the next request left intact."""

from __future__ import annotations

import os
import socket
import threading

import pytest
from gunicorn.http.body import Body, ChunkedReader, LengthReader
from gunicorn.http.unreader import SocketUnreader

from remediator.gunicorn_body import RECV_BYTES, BlockBody

BODY = os.urandom(300_000) + b"\nline two\nthree"
NEXT = b"GET /next HTTP/1.1\r\n\r\n"


class _Req:
    """What ChunkedReader needs of a request: where trailers would go."""

    headers: list = []


def _chunked(data: bytes, size: int = 70_001) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(data[i : i + size]), data[i : i + size])
             for i in range(0, len(data), size)]  # fmt: skip
    return b"".join(parts) + b"0\r\n\r\n"


def _read(body_class, wire: bytes, framing: str, read_size: int | None, mxchunk: int):
    """(the body read ``read_size`` at a time, what the connection holds after it)."""
    a, b = socket.socketpair()
    sender = threading.Thread(target=a.sendall, args=(wire + NEXT,))
    sender.start()
    unreader = SocketUnreader(b, mxchunk)
    reader = (
        LengthReader(unreader, len(BODY))
        if framing == "length"
        else ChunkedReader(_Req(), unreader)
    )
    body = body_class(reader)
    got = bytearray()
    while chunk := body.read(read_size) if read_size else body.read():
        got += chunk
        if not read_size:
            break
    sender.join()
    a.close()
    rest = unreader.read(len(NEXT))
    b.close()
    return bytes(got), rest


@pytest.mark.parametrize("framing", ["length", "chunked"])
@pytest.mark.parametrize("read_size", [None, 1, 1000, 65_536, 10**9])
def test_block_body_reads_what_gunicorns_body_reads(framing, read_size):
    if read_size == 1 and framing == "chunked":
        read_size = 7  # one byte at a time through chunked framing is slow, not different
    wire = BODY if framing == "length" else _chunked(BODY)

    stock = _read(Body, wire, framing, read_size, 8192)
    block = _read(BlockBody, wire, framing, read_size, RECV_BYTES)

    assert stock == block == (BODY, NEXT)


def test_block_body_lines_are_gunicorns():
    a, b = socket.socketpair()
    sender = threading.Thread(target=a.sendall, args=(BODY,))
    sender.start()
    body = BlockBody(LengthReader(SocketUnreader(b, RECV_BYTES), len(BODY)))

    head = body.read(10)
    lines = list(body)

    assert head + b"".join(lines) == BODY and lines[-1] == b"three"
    sender.join()
    a.close()
    b.close()
