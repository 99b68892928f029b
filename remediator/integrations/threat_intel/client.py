"""Downloads an EPSS or KEV file over HTTP(S): timeouts, retries and an audit record per
call come from :class:`HttpClient`; the URL must pass the outbound rules (https, or plain
http only to PLAIN_HTTP_HOSTS). The body is spooled to a temporary file, bounded in size
and in time: connect and read timeouts bound each wait, and ``deadline`` bounds the whole
body, so a server that sends a byte every 29 s (never a read timeout) is cut off too."""

from __future__ import annotations

import socket
import tempfile
import time
from typing import IO

import requests
import urllib3
from django.conf import settings

from remediator.core.errors import ProviderError
from remediator.integrations.http import HttpClient, redact_url

MAX_BYTES = 64 * 1024 * 1024
"""The real EPSS file is ~2 MB gzipped (~10 MB plain), the KEV catalogue ~1.5 MB."""
CHUNK = 256 * 1024
DEFAULT_DEADLINE = 300.0


def _sock(response: requests.Response) -> socket.socket | None:
    """The socket the body is read from: the connection's, or -- when http.client already
    let go of it because the server closes after this answer -- the one under the
    response's file object (http.client.HTTPResponse.fp -> SocketIO)."""
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    if isinstance(sock, socket.socket):
        return sock
    fp = getattr(getattr(response.raw, "_fp", None), "fp", None)
    sock = getattr(getattr(fp, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _late(url: str, deadline: float) -> ProviderError:
    return ProviderError(
        f"threat_intel: {redact_url(url)} was not downloaded within its deadline "
        f"of {deadline:g} s (THREAT_INTEL_DOWNLOAD_DEADLINE)",
        permanent=False,
    )


def _body(
    response: requests.Response, spool: IO[bytes], *, url: str, max_bytes: int, deadline: float
) -> None:
    """Copy the body into ``spool``, each read waiting at most what is left of the deadline."""
    ends = time.monotonic() + deadline
    read_timeout = settings.PROVIDER_READ_TIMEOUT
    sock = _sock(response)
    size = 0
    while True:
        left = ends - time.monotonic()
        if left <= 0:
            raise _late(url, deadline)
        if sock is not None:
            try:
                sock.settimeout(min(read_timeout, left))
            except OSError:  # closed by the end of the body: what is left is buffered
                sock = None
        try:
            chunk = response.raw.read1(CHUNK, decode_content=True)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            if time.monotonic() >= ends:
                raise _late(url, deadline) from exc
            raise ProviderError(
                f"threat_intel: reading {redact_url(url)} failed: {type(exc).__name__}",
                permanent=False,
            ) from exc
        if not chunk:
            return
        size += len(chunk)
        if size > max_bytes:
            raise ProviderError(
                f"threat_intel: {redact_url(url)} is larger than {max_bytes} bytes",
                permanent=True,
            )
        spool.write(chunk)


def feed_download(
    url: str, *, max_bytes: int = MAX_BYTES, deadline: float = DEFAULT_DEADLINE
) -> IO[bytes]:
    """The body at ``url`` in a temporary file positioned at its start (close it after use).

    Raises a transient ProviderError when the body is not all there ``deadline`` seconds
    after the answer began, a permanent one when it is larger than ``max_bytes``.
    """
    # Feeds are compressed files already (EPSS .csv.gz): ask for them as they are.
    client = HttpClient("threat_intel", headers={"Accept-Encoding": "identity"})
    response = client.request("GET", url, expected=(200,), stream=True)
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
    try:
        _body(response, spool, url=url, max_bytes=max_bytes, deadline=deadline)
    except BaseException:
        spool.close()
        raise
    finally:
        response.close()
    spool.seek(0)
    return spool  # type: ignore[return-value]
