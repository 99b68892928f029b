"""Downloads an EPSS or KEV file over HTTP(S): timeouts, retries and an audit record per
call come from :class:`HttpClient`; the URL must pass the outbound rules (https, or plain
http only to PLAIN_HTTP_HOSTS). The body is spooled to a temporary file, bounded in size."""

from __future__ import annotations

import tempfile
from typing import IO

import requests
import urllib3

from remediator.core.errors import ProviderError
from remediator.integrations.http import HttpClient, redact_url

MAX_BYTES = 256 * 1024 * 1024
"""The real EPSS file is ~2 MB gzipped (~10 MB plain), the KEV catalogue ~1.5 MB."""
CHUNK = 1024 * 1024


def feed_download(url: str, *, max_bytes: int = MAX_BYTES) -> IO[bytes]:
    """The body at ``url`` in a temporary file positioned at its start (close it after use)."""
    client = HttpClient("threat_intel")
    response = client.request("GET", url, expected=(200,), stream=True)
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
    size = 0
    try:
        for chunk in response.raw.stream(CHUNK, decode_content=True):
            size += len(chunk)
            if size > max_bytes:
                raise ProviderError(
                    f"threat_intel: {redact_url(url)} is larger than {max_bytes} bytes",
                    permanent=True,
                )
            spool.write(chunk)
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        spool.close()
        raise ProviderError(
            f"threat_intel: reading {redact_url(url)} failed: {type(exc).__name__}",
            permanent=False,
        ) from exc
    except BaseException:
        spool.close()
        raise
    finally:
        response.close()
    spool.seek(0)
    return spool  # type: ignore[return-value]
