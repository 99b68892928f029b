"""JSON answers for the requests gunicorn refuses before Django sees them.

gunicorn parses the request line and headers itself and answers what it refuses
(a request line past ``limit_request_line``, a header past
``limit_request_field_size``, more than ``limit_request_fields`` headers, a header
without a colon, obsolete line folding, a NUL, an invalid method or version...)
with an HTML page. :class:`JsonErrorThreadWorker` is gunicorn's gthread worker
with one change, its ``handle_error``: the same decisions, answered as every other
error here, ``{"error": "<code>", "detail": "<why>"}`` with ``Content-Type:
application/json``. The detail names the limit, never echoes the request; the log
line quotes what was refused (``%r``). No input is answered with a 5xx: an
unsupported transfer coding, RFC 9112's 501, is a 400 here; only a server fault
(an exception from the application, a configuration problem) is a 500.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from datetime import datetime

from gunicorn import util
from gunicorn.http import errors
from gunicorn.http.wsgi import Response, default_environ
from gunicorn.workers.gthread import ThreadWorker

_MALFORMED = (
    (errors.InvalidRequestLine, "the request line is not HTTP/1.x"),
    (errors.InvalidRequestMethod, "the method is not a valid HTTP method"),
    (errors.InvalidHTTPVersion, "the HTTP version is not supported (HTTP/1.0 and 1.1 are)"),
    (errors.ObsoleteFolding, "a header is folded over several lines (obsolete, refused)"),
    (errors.InvalidHeaderName, "a header name holds a character a token cannot"),
    (errors.InvalidHeader, "a header is malformed (no colon, a NUL or control character, "
                           "or a Content-Length or Transfer-Encoding that cannot be trusted)"),
    (errors.UnsupportedTransferCoding, "the transfer coding is not supported: send chunked "
                                       "or a Content-Length"),
    (errors.InvalidSchemeHeaders, "the proxy headers name contradictory schemes"),
    (errors.InvalidProxyLine, "the PROXY protocol line is malformed"),
)  # fmt: skip


def edge_answer(exc: BaseException, cfg) -> tuple[int, str, str, str]:
    """(status, reason, error code, detail) for an exception of gunicorn's request parsing,
    or of the application: what gunicorn decides, in our error vocabulary."""
    if isinstance(exc, errors.LimitRequestLine):
        detail = f"the request line is longer than {cfg.limit_request_line} bytes"
        return 414, "URI Too Long", "uri_too_long", detail
    if isinstance(exc, errors.LimitRequestHeaders):
        detail = (
            f"the request headers are too large: at most {cfg.limit_request_fields} headers "
            f"of at most {cfg.limit_request_field_size} bytes each"
        )
        return 431, "Request Header Fields Too Large", "headers_too_large", detail
    for kind, detail in _MALFORMED:
        if isinstance(exc, kind):
            return 400, "Bad Request", "bad_request", detail
    if isinstance(exc, errors.ForbiddenProxyRequest | ssl.SSLError):
        return 403, "Forbidden", "forbidden", "this connection may not make requests"
    return 500, "Internal Server Error", "server_error", "the server failed; try again later"


def json_error_bytes(status: int, reason: str, code: str, detail: str) -> bytes:
    body = json.dumps({"error": code, "detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class JsonErrorThreadWorker(ThreadWorker):
    """gunicorn's gthread worker whose own error answers are JSON (see module docstring)."""

    def handle_error(self, req, client, addr, exc) -> None:
        started = datetime.now()
        addr = addr or ("", -1)  # a unix socket
        status, reason, code, detail = edge_answer(exc, self.cfg)
        if status >= 500:
            uri = getattr(req, "uri", None)
            self.log.exception("Error handling request %r", uri if uri else "(no URI read)")
        else:
            shown = str(exc)[:200]
            self.log.warning(
                "Invalid request from ip=%s: %s %r", addr[0], type(exc).__name__, shown
            )
        if req is None and isinstance(exc, errors.InvalidHeader | errors.InvalidHeaderName):
            req = getattr(exc, "req", None)  # for the access log, as gunicorn does
        answer = json_error_bytes(status, reason, code, detail)
        if req is not None:
            environ = default_environ(req, client, self.cfg)
            environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = addr[0], str(addr[1])
            response = Response(req, client, self.cfg)
            response.status = f"{status} {reason}"
            response.response_length = len(answer)
            self.log.access(response, req, environ, datetime.now() - started)
        try:
            util.write_nonblock(client, answer)
            linger(client)
        except Exception:  # the client is gone: nothing to answer
            self.log.debug("Failed to send error message.")


def linger(client, seconds: float = 1.0, most: int = 1024 * 1024) -> None:
    """End our side, then read (and drop) what the client is still sending, briefly: a
    close with unread data sends a reset, which can make the client's TCP discard the
    answer before it is read (RFC 9112, section 9.6: a refused 70 KB request line)."""
    client.shutdown(socket.SHUT_WR)
    client.settimeout(seconds)
    deadline, drained = time.monotonic() + seconds, 0
    while drained < most and time.monotonic() < deadline:
        try:
            chunk = client.recv(65536)
        except OSError:  # timed out, or reset: either way, done
            return
        if not chunk:
            return
        drained += len(chunk)
