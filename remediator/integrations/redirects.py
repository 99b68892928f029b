"""Which redirects an API client may follow: same scheme, same host and port only.

A client built with ``redirects=N`` (GitHub: a renamed or transferred repository
answers 301, or 307 to a POST) follows up to N hops. The next URL must pass the
outbound checks again and stay on the scheme, host and port it came from, so a
token is never carried elsewhere. 307/308 repeat the method and body; 301/302/303
are followed only for GET and HEAD (a POST must not silently become a GET).
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from remediator.core.errors import ProviderError
from remediator.integrations.outbound import outbound_url_problem

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
REPEAT_STATUSES = (307, 308)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def redirect_target(provider: str, method: str, url: str, status: int, location: str) -> str:
    """The URL to send ``method`` to next, or a permanent ProviderError saying why not."""
    if not location:
        raise ProviderError(f"{provider}: {status} without a Location header", permanent=True)
    target = urljoin(url, location)
    problem = outbound_url_problem(target)
    if problem:
        raise ProviderError(f"{provider}: refused to follow a redirect: {problem}", permanent=True)
    if _origin(target) != _origin(url):
        scheme, host, port = _origin(target)
        shown = f"{scheme}://{host}{f':{port}' if port else ''}"
        raise ProviderError(
            f"{provider}: refused to follow a {status} redirect to another host or scheme "
            f"({shown}); update the build target's URL if it really moved",
            permanent=True,
            status=status,
        )
    if status not in REPEAT_STATUSES and method.upper() not in ("GET", "HEAD"):
        raise ProviderError(
            f"{provider}: {method} answered {status} (moved to {urlsplit(target).path}); "
            "only 307/308 may repeat a request with a body: update the build target",
            permanent=True,
            status=status,
        )
    return target
