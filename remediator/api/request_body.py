"""Read a request body from the WSGI stream in chunks, refusing it past a limit.

The Content-Length is checked first; without one (chunked transfer, when the
server marks the stream ``wsgi.input_terminated``), the limit is enforced
while reading, so an oversize body is never held in memory whole. Django's
``request.body`` (and DATA_UPLOAD_MAX_MEMORY_SIZE) is bypassed. A body that cannot
be read (a broken chunked encoding, a connection ending before its Content-Length)
is a 400, not the 500 of an exception escaping the view.
"""

from __future__ import annotations

from django.http import HttpRequest

from .errors import ApiError

CHUNK = 64 * 1024
UNREADABLE = (
    "the body could not be read: a broken chunked encoding, or fewer bytes than its "
    "Content-Length before the connection ended"
)


def _too_large(limit: int, setting: str) -> ApiError:
    return ApiError(413, "too_large", f"the body is larger than {limit} bytes ({setting})")


def read_body(request: HttpRequest, limit: int, setting: str) -> bytes:
    """The body, at most ``limit`` bytes; past it a 413 naming ``setting``, the setting
    that sets the limit of this route."""
    meta = request.META
    length_text = (meta.get("CONTENT_LENGTH") or "").strip()
    expected: int | None = None
    if length_text:
        try:
            expected = int(length_text)
        except ValueError:
            raise ApiError(400, "invalid_body", "Content-Length is not a number") from None
        if expected < 0:
            raise ApiError(400, "invalid_body", "Content-Length is negative")
        if expected > limit:
            raise _too_large(limit, setting)
        stream = request  # Django's stream is bounded by the Content-Length
    elif meta.get("wsgi.input_terminated"):
        stream = meta["wsgi.input"]  # chunked: the server ends the stream for us
    elif "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
        raise ApiError(411, "length_required", "send a Content-Length (this server cannot chunk)")
    else:
        return b""
    body = bytearray()
    while True:
        try:
            chunk = stream.read(CHUNK)
        except OSError:  # the server could not read it (gunicorn's errors are OSErrors)
            raise ApiError(400, "invalid_body", UNREADABLE) from None
        if not chunk:
            if expected is not None and len(body) < expected:  # the connection ended early
                raise ApiError(400, "invalid_body", UNREADABLE)
            return bytes(body)
        body += chunk
        if len(body) > limit:
            raise _too_large(limit, setting)
