"""How Remediator gets an Aqua bearer token, chosen by settings:

- **API key** (Aqua Platform / SaaS; ``AQUA_API_KEY`` + ``AQUA_API_SECRET``):
  ``POST {AQUA_AUTH_URL}/v2/tokens`` with ``{"validity", "allowed_endpoints"}`` and the
  headers ``X-API-Key``, ``X-Timestamp`` (Unix seconds) and ``X-Signature`` = hex
  HMAC-SHA256(secret, timestamp + METHOD + path + body); the token is ``data``.
- **SaaS sign-in** (``AQUA_AUTH_URL`` + ``AQUA_USERNAME``/``AQUA_PASSWORD``):
  ``POST {AQUA_AUTH_URL}/v2/signin`` ``{"email", "password"}``; the token is ``data.token``.
- **Self-hosted login** (neither): ``POST {AQUA_URL}/api/v1/login`` ``{"id", "password"}``;
  the token is ``token``.

Contracts: aquasecurity/terraform-provider-aquasec ``client/client.go``
(``signedRequest``, ``AuthenticateWithAPIKey``, ``GetUSEAuthToken``, ``GetCspAuthToken``)
and aquasecurity/saas-api-samples. Tokens are cached per process until shortly before
they expire; the key, secret, password, signature and token never reach a log or the
audit trail (the HTTP client records method, URL and status only).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from remediator.core.errors import ProviderError
from remediator.core.secrets import read_secret
from remediator.integrations.http import HttpClient

REFRESH_MARGIN_SECONDS = 60
"""A cached token is replaced this long before it expires."""
ALLOWED_ENDPOINTS = ["ANY"]
"""HTTP methods the API-key token may be used for (Aqua: "ANY", "GET", "POST", ...)."""

clock = time.time
"""Seconds since the epoch: the signed timestamp and the cache's clock (tests move it)."""
_cache: dict[tuple[str, ...], tuple[str, float]] = {}
_lock = threading.Lock()


def token_cache_clear() -> None:
    """Forget every cached token (tests; a changed configuration)."""
    with _lock:
        _cache.clear()


def hmac_signature(secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    """Aqua's request signature: hex HMAC-SHA256 of timestamp + METHOD + path + body."""
    message = timestamp.encode() + method.upper().encode() + path.encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT (not verified: only to know when to refresh)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


@dataclass(frozen=True)
class AquaAuth:
    """One way of getting a token; ``mode`` is "api_key", "saas_signin" or "login"."""

    mode: str
    url: str
    """Where the token is asked for: AQUA_AUTH_URL (SaaS) or AQUA_URL (self-hosted)."""
    username: str = ""
    password: str = ""
    api_key: str = ""
    api_secret: str = ""

    def __repr__(self) -> str:  # never show a credential
        return f"AquaAuth(mode={self.mode!r}, url={self.url!r})"

    def _cache_key(self) -> tuple[str, ...]:
        who = self.api_key or self.username
        digest = hashlib.sha256(f"{who}\0{self.password}{self.api_secret}".encode()).hexdigest()
        return (self.mode, self.url, digest)

    def token(self, http: HttpClient, *, fresh: bool = False) -> str:
        """A valid token: the cached one, or a new one when none is cached, it is about
        to expire, or ``fresh`` (the API answered 401)."""
        key = self._cache_key()
        with _lock:
            cached = _cache.get(key)
            if cached and not fresh and clock() < cached[1] - REFRESH_MARGIN_SECONDS:
                return cached[0]
        token, expires_at = self._fetch(http)
        with _lock:
            _cache[key] = (token, expires_at)
        return token

    def _fetch(self, http: HttpClient) -> tuple[str, float]:
        started = clock()
        if self.mode == "api_key":
            minutes = settings.AQUA_TOKEN_VALIDITY_MINUTES
            token = _text(self._api_key_token(http, minutes), "data")
            return token, started + minutes * 60
        if self.mode == "saas_signin":
            self._require("AQUA_USERNAME", "AQUA_PASSWORD")
            answer = self._post(
                http, "/v2/signin", {"email": self.username, "password": self.password}
            )
            data = answer.get("data")
            token = _text(data if isinstance(data, dict) else {}, "token")
        else:
            self._require("AQUA_USERNAME", "AQUA_PASSWORD")
            answer = self._post(
                http, "/api/v1/login", {"id": self.username, "password": self.password}
            )
            token = _text(answer, "token")
        return token, jwt_expiry(token) or float("inf")

    def _require(self, *names: str) -> None:
        values = {"AQUA_USERNAME": self.username, "AQUA_PASSWORD": self.password}
        for name in names:
            if not values[name]:
                raise ProviderError(f"aqua: {name} is not set", permanent=True)

    def _post(self, http: HttpClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return _json(_sign_in(http, self.url, path, json=body))

    def _api_key_token(self, http: HttpClient, minutes: int) -> dict[str, Any]:
        if not self.api_key or not self.api_secret:
            raise ProviderError(
                "aqua: API-key sign-in needs both AQUA_API_KEY and AQUA_API_SECRET", permanent=True
            )
        if not self.url:
            raise ProviderError("aqua: API-key sign-in needs AQUA_AUTH_URL", permanent=True)
        path = "/v2/tokens"
        body = json.dumps(
            {"validity": minutes, "allowed_endpoints": ALLOWED_ENDPOINTS}, separators=(",", ":")
        ).encode()
        timestamp = str(int(clock()))
        headers = {
            "Content-Type": "application/json",
            "X-API-Key": self.api_key,
            "X-Timestamp": timestamp,
            "X-Signature": hmac_signature(self.api_secret, timestamp, "POST", path, body),
        }
        return _json(_sign_in(http, self.url, path, data=body, headers=headers))


def _sign_in(http: HttpClient, base_url: str, path: str, **kwargs: Any) -> Any:
    """POST to a sign-in endpoint; a refusal is reported by status only (an answer could
    echo what was sent, and the error reaches logs and the audit trail)."""
    try:
        return http.request("POST", base_url + path, expected=(200, 201), **kwargs)
    except ProviderError as exc:
        if exc.status is None:
            raise
        refused = "refused the credentials" if exc.status in (401, 403) else "failed"
        raise ProviderError(
            f"aqua: sign-in ({path}) {refused}: HTTP {exc.status}",
            permanent=exc.permanent,
            status=exc.status,
        ) from None


def _json(response: Any) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ProviderError("aqua: the sign-in answer is not a JSON object", permanent=True)
    return value


def _text(document: dict[str, Any], key: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value:
        raise ProviderError(f"aqua: the sign-in answered without a token ({key})", permanent=True)
    return value


def aqua_auth_from_settings() -> AquaAuth:
    """The configured way to sign in: API key, SaaS user, or self-hosted user."""
    api_key = read_secret("AQUA_API_KEY", required=False)
    api_secret = read_secret("AQUA_API_SECRET", required=False)
    auth_url = settings.AQUA_AUTH_URL.rstrip("/")
    if api_key or api_secret:
        return AquaAuth("api_key", auth_url, api_key=api_key, api_secret=api_secret)
    username, password = settings.AQUA_USERNAME, settings.AQUA_PASSWORD
    if auth_url:
        return AquaAuth("saas_signin", auth_url, username=username, password=password)
    return AquaAuth("login", settings.AQUA_URL.rstrip("/"), username=username, password=password)
