"""Downloads one VEX document: timeouts, retries and an audit record per call come
from :class:`HttpClient`, the URL must pass the outbound rules (https, or plain http
only to PLAIN_HTTP_HOSTS), and the body is bounded (VEX_FETCH_MAX_BYTES): a larger one
is refused before it is all read."""

from __future__ import annotations

import requests
import urllib3
from django.conf import settings

from remediator.core.errors import ProviderError
from remediator.integrations.http import HttpClient, redact_url

CHUNK = 256 * 1024


def vex_download(url: str, *, max_bytes: int | None = None) -> bytes:
    """The body at ``url``; ProviderError when it cannot be had or is too large."""
    limit = settings.VEX_FETCH_MAX_BYTES if max_bytes is None else max_bytes
    client = HttpClient("vex", headers={"Accept": "application/json"})
    response = client.request("GET", url, expected=(200,), stream=True)
    body = bytearray()
    try:
        for chunk in response.iter_content(CHUNK):
            body += chunk
            if len(body) > limit:
                raise ProviderError(
                    f"vex: {redact_url(url)} is larger than {limit} bytes (VEX_FETCH_MAX_BYTES)",
                    permanent=True,
                )
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise ProviderError(
            f"vex: reading {redact_url(url)} failed: {type(exc).__name__}", permanent=False
        ) from exc
    finally:
        response.close()
    return bytes(body)
