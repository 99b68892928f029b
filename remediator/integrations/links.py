"""Links an outside API hands us (a pull request's ``html_url``, a merge request's
``web_url``, a CI run's page) before they are stored and shown as ``href``.

Only ``https`` links (or ``http`` when the API itself is plain http, as a test
server or an in-house host is) to the host's own site are kept, or for a CI run any
http(s) link; anything else
(``javascript:``, ``data:``, another host, user info, control characters, longer
than the column) becomes '' and the page shows the number without a link.
"""

from __future__ import annotations

from urllib.parse import urlsplit

LINK_MAX = 500
"""The URLField columns' length."""


def _site(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower().removeprefix("api.")
    default = {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, host, port if port not in (None, default) else None


def web_link(url: object, *, api_url: str = "") -> str:
    """``url`` when it is an http(s) link on the site of ``api_url`` (``api.github.com``
    counts as ``github.com``), else ''. Without ``api_url`` any http(s) host will do
    (a CI run's page may live elsewhere than the API that names it)."""
    if not isinstance(url, str) or not url or len(url) > LINK_MAX:
        return ""
    if not (url.isascii() and url.isprintable()) or " " in url or "\\" in url:
        return ""
    link = _site(url)
    if link is None or link[0] not in ("https", "http") or not link[1]:
        return ""
    if "@" in urlsplit(url).netloc:
        return ""
    if not api_url:
        return url
    api = _site(api_url)
    if api is None or link[1:] != api[1:]:
        return ""
    return url if link[0] == "https" or api[0] == "http" else ""
