"""Who is on the other end of a request: the one place that reads proxy headers for it."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The peer's address; behind a trusted proxy (TRUST_PROXY_HEADERS), the address
    the proxy saw: the last X-Forwarded-For entry, the only one it wrote itself."""
    if settings.TRUST_PROXY_HEADERS:
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last[:64]
    return str(request.META.get("REMOTE_ADDR", "") or "")[:64]
