"""Where outside calls may go: https, or plain http to a host the operator allow-lists.

CI, Aqua, Harbor and Slack URLs are checked when a build target is validated
(admin form, YAML, ``check_targets``), by a system check for the settings, and
again on every call (:class:`remediator.integrations.http.HttpClient`), so a
token is never sent in clear text to a stranger. ``PLAIN_HTTP_HOSTS`` (default:
loopback only, for local trials) lists the hosts plain http may reach. Redirects
are followed only by clients that ask for it (GitHub), only to the same scheme,
host and port, and the next URL is checked again (``redirects.py``); otherwise a
3xx that is not expected is an error.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

DEFAULT_PLAIN_HTTP_HOSTS = ("localhost", "127.0.0.1", "::1")


def plain_http_hosts() -> list[str]:
    hosts = getattr(settings, "PLAIN_HTTP_HOSTS", DEFAULT_PLAIN_HTTP_HOSTS)
    return [h.strip().strip("[]").lower() for h in hosts if h.strip()]


def _shown(url: str) -> str:
    """Scheme, host and port only, for messages: paths may hold tokens (Slack)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unparseable URL)"
    return f"{parts.scheme}://{host}{port}"


def outbound_url_problem(url: str) -> str:
    """'' when a secret may be sent to ``url``, else what is wrong (without credentials)."""
    if any(ord(c) < 33 or c in "\\\x7f" for c in url):
        return "the URL contains spaces, control characters or a backslash"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "the URL cannot be parsed"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url if '@' not in url else _shown(url)!r} is not an http(s) URL"
    if parts.username is not None or parts.password is not None:
        return f"{_shown(url)!r} must not carry user info (credentials go in *_env secrets)"
    if parts.scheme != "https" and parts.hostname.lower() not in plain_http_hosts():
        return (
            f"{_shown(url)!r} must use https (plain http only for PLAIN_HTTP_HOSTS: "
            f"{', '.join(plain_http_hosts()) or 'none'})"
        )
    return ""
