"""A fake Aqua Platform (SaaS) following the published contracts:

- ``POST /v2/tokens`` (aquasecurity/terraform-provider-aquasec ``client/client.go``
  ``signedRequest``/``AuthenticateWithAPIKey``; aquasecurity/saas-api-samples): headers
  ``X-API-Key``, ``X-Timestamp`` (Unix seconds), ``X-Signature`` = hex HMAC-SHA256(secret,
  timestamp + METHOD + path + body); body ``{"validity", "allowed_endpoints"}``; answer
  ``{"data": "<token>"}``.
- ``POST /v2/signin`` ``{"email", "password"}`` -> ``{"data": {"token"}}`` (``GetUSEAuthToken``).
- the tenant's API (rescan, disallow, allow, acknowledge) with ``Authorization: Bearer``.

It recomputes the signature from the raw body it received and refuses a wrong one or a
stale timestamp with 401.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from werkzeug import Request, Response

API_KEY = "aqua-key-1d2c3b4a"
API_SECRET = "aqua-S3CRET-never-logged"
PASSWORD = "saas-Pa55word-never-logged"
MAX_SKEW = 300


class FakeAquaSaas:
    """The token service (``/v2/tokens``, ``/v2/signin``) and the tenant's API on one server."""

    def __init__(self, httpserver, secret: str = API_SECRET) -> None:
        self.server = httpserver
        self.secret = secret
        self.issued: list[str] = []
        self.revoked: set[str] = set()
        self.refused: list[str] = []
        self.max_skew = MAX_SKEW
        self.calls: list[tuple[str, str, dict]] = []
        httpserver.expect_request("/v2/tokens", method="POST").respond_with_handler(self.tokens)
        httpserver.expect_request("/v2/signin", method="POST").respond_with_handler(self.signin)
        for path in (
            "/api/v1/images/rescan",
            "/api/v1/images/disallow",
            "/api/v1/images/allow",
            "/api/v2/risks/acknowledge",
        ):
            httpserver.expect_request(path, method="POST").respond_with_handler(self.api)

    def _issue(self) -> str:
        token = f"saas-token-{len(self.issued) + 1}-never-logged"
        self.issued.append(token)
        return token

    def _refuse(self, why: str) -> Response:
        self.refused.append(why)
        return Response(
            json.dumps({"status": 401, "message": why}), 401, mimetype="application/json"
        )

    def tokens(self, request: Request) -> Response:
        body = request.get_data()
        timestamp = request.headers.get("X-Timestamp", "")
        if request.headers.get("X-API-Key") != API_KEY:
            return self._refuse("unknown api key")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > self.max_skew:
            return self._refuse("timestamp out of range")
        message = timestamp.encode() + b"POST" + request.path.encode() + body
        expected = hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Signature", "")):
            return self._refuse("invalid signature")
        document = json.loads(body)
        assert isinstance(document["validity"], int)
        assert document["allowed_endpoints"]
        return Response(
            json.dumps({"status": 200, "code": 0, "data": self._issue()}),
            mimetype="application/json",
        )

    def signin(self, request: Request) -> Response:
        document = request.get_json()
        if document != {"email": "remediator@example.com", "password": PASSWORD}:
            return self._refuse("invalid credentials")
        return Response(
            json.dumps({"status": 200, "code": 0, "data": {"token": self._issue()}}),
            mimetype="application/json",
        )

    def api(self, request: Request) -> Response:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ")
        if token not in self.issued or token in self.revoked:
            return self._refuse("token invalid")
        self.calls.append((request.path, token, request.get_json()))
        return Response("", 204)


@pytest.fixture
def aqua_saas(settings, httpserver, monkeypatch) -> FakeAquaSaas:
    """Aqua configured for API-key sign-in against the fake (auth and API on one server)."""
    url = httpserver.url_for("").rstrip("/")
    settings.AQUA_URL = url
    settings.AQUA_AUTH_URL = url
    settings.AQUA_USERNAME = ""
    settings.AQUA_PASSWORD = ""
    settings.AQUA_TOKEN_VALIDITY_MINUTES = 240
    monkeypatch.setenv("AQUA_API_KEY", API_KEY)
    monkeypatch.setenv("AQUA_API_SECRET", API_SECRET)
    return FakeAquaSaas(httpserver)
