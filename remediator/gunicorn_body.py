"""Request bodies read in large blocks, for the Procfile's web process.

gunicorn's ``Body.read`` asks its reader for 1 KiB at a time, and its socket reader
receives at most 8 KiB at a time and puts back what it was not asked for: reading a
2 MiB webhook body costs about 5 ms of CPU that way (gunicorn 23, the body already in the
socket buffer), against 0.5 ms when the body asks its reader for all it lacks at once
and the socket is read 64 KiB at a time. During a burst of large posts that is a
tenth of a web worker's CPU per post. The bytes, their order, the length and chunked
framing and every limit stay gunicorn's: only the sizes of the reads change.

:class:`WebThreadWorker` is the worker the web process runs
(``remediator/gunicorn_conf.py``): gunicorn's gthread worker with JSON error answers
(``remediator/gunicorn_errors.py``) and these reads.
"""

from __future__ import annotations

import io

from gunicorn.http.body import Body

from remediator.gunicorn_errors import JsonErrorThreadWorker

RECV_BYTES = 64 * 1024
"""The most one ``recv`` on a client's socket asks for (gunicorn's own: 8 KiB)."""


class BlockBody(Body):
    """gunicorn's request body, which asks its reader (Content-Length, chunked or
    until EOF) for everything a read still lacks in one call."""

    def read(self, size: int | None = None) -> bytes:
        size = self.getsize(size)
        if size == 0:
            return b""
        while self.buf.tell() < size:
            data = self.reader.read(size - self.buf.tell())
            if not data:
                break
            self.buf.write(data)
        data = self.buf.getvalue()
        ret, rest = data[:size], data[size:]
        self.buf = io.BytesIO()
        self.buf.write(rest)
        return ret


class WebThreadWorker(JsonErrorThreadWorker):
    """gunicorn's gthread worker, JSON error answers, request bodies read in blocks."""

    def handle_request(self, req, conn):
        if type(req.body) is Body:  # fresh: the parser has read none of it
            req.body = BlockBody(req.body.reader)
        if hasattr(req.unreader, "mxchunk"):  # a socket's reader (the connection's own)
            req.unreader.mxchunk = RECV_BYTES
        return super().handle_request(req, conn)
