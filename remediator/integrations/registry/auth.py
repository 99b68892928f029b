"""The distribution token spec: a 401's ``WWW-Authenticate`` challenge, the token it asks
for, and tokens kept per registry, scope and user until they expire.

``Bearer realm="…",service="…",scope="…"`` is answered by ``GET realm?service=…&scope=…``
(with the registry's credentials as basic auth when Remediator has them, anonymously
otherwise) whose JSON gives ``token`` (or ``access_token``) and ``expires_in`` (60 s
when absent, as the spec says); ``Basic realm="…"`` by sending the credentials.
"""

from __future__ import annotations

import re
import threading
import time

from .credentials import Credentials

DEFAULT_EXPIRY = 60
"""Seconds a token lives when the token service does not say (the spec's minimum)."""
MAX_EXPIRY = 300
EXPIRY_MARGIN = 5
_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)=("(?:[^"\\]|\\.)*"|[^\s,]*)')


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """(scheme in lowercase, its parameters) of the first challenge in ``header``."""
    scheme, _, rest = header.strip().partition(" ")
    params = {}
    for name, value in _PARAM.findall(rest):
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params.setdefault(name.lower(), value)
    return scheme.lower(), params


def token_of(body: object) -> tuple[str, float]:
    """(token, seconds it lives) from a token service's JSON answer; ('', 0) if none."""
    if not isinstance(body, dict):
        return "", 0
    token = body.get("token") or body.get("access_token")
    if not isinstance(token, str) or not token:
        return "", 0
    expires = body.get("expires_in")
    seconds = expires if isinstance(expires, int | float) and expires > 0 else DEFAULT_EXPIRY
    return token, min(float(seconds), MAX_EXPIRY)


class TokenCache:
    """Bearer tokens by (registry, scope, user), dropped a few seconds before expiry."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}

    @staticmethod
    def _key(registry: str, scope: str, credentials: Credentials | None) -> tuple[str, str, str]:
        return registry, scope, credentials.username if credentials else ""

    def get(self, registry: str, scope: str, credentials: Credentials | None) -> str:
        with self._lock:
            token, expires = self._tokens.get(self._key(registry, scope, credentials), ("", 0))
        return token if expires > time.monotonic() else ""

    def put(
        self,
        registry: str,
        scope: str,
        credentials: Credentials | None,
        token: str,
        seconds: float,
    ) -> None:
        expires = time.monotonic() + seconds - EXPIRY_MARGIN
        with self._lock:
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[self._key(registry, scope, credentials)] = (token, expires)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


TOKENS = TokenCache()
