"""Which digest a tag names now: ``HEAD /v2/<name>/manifests/<tag>`` (OCI distribution
spec), read from ``Docker-Content-Digest``.

The Accept header lists the OCI image index and manifest and Docker's manifest list and
v2 manifest, so a multi-platform tag answers with its index digest — the digest a
runtime records for a pod and the one a scanner reports for the tag. Without the
header a registry may answer only for an image manifest (Docker's distribution answers
404 for an OCI manifest). When the answer carries no digest, the manifest is fetched
(at most 4 MiB, the spec's limit) and hashed. Docker Hub (``docker.io``) is asked at
``registry-1.docker.io``; plain http only for ``PLAIN_HTTP_HOSTS``, https elsewhere
(``REGISTRY_CA_BUNDLE`` for a private CA). Every call has the caller's deadline as its
timeout and is not retried: admission waits for nothing longer.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from urllib.parse import quote

import requests
from django.conf import settings

from findings.parsers.images import DEFAULT_REGISTRY, strict_digest
from remediator.core.errors import ProviderError
from remediator.integrations.http import CallRecord, HttpClient, record_call
from remediator.integrations.outbound import plain_http_hosts

from .auth import TOKENS, parse_challenge, token_of
from .credentials import Credentials, CredentialsInvalid, credentials_for

PROVIDER = "registry"
DOCKER_HUB_API = "registry-1.docker.io"
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MIN_TIMEOUT = 0.05
ANSWERS = (200, 401, 403, 404)


class RegistryError(ProviderError):
    """The registry could not say which digest the tag names. ``missing``: it answered
    that there is no such tag (or repository); ``unreachable``: it did not answer at all
    (connection refused or reset, unknown host, timeout)."""

    def __init__(
        self,
        message: str,
        *,
        missing: bool = False,
        unreachable: bool = False,
        status: int | None = None,
    ) -> None:
        super().__init__(message, permanent=missing, status=status)
        self.missing = missing
        self.unreachable = unreachable


def api_url(registry: str) -> str:
    """Where a registry's API is served (``registry`` as image references normalise it)."""
    host = DOCKER_HUB_API if registry == DEFAULT_REGISTRY else registry
    hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0][1:]
    scheme = "http" if hostname.lower() in plain_http_hosts() else "https"
    return f"{scheme}://{host}"


def _timeout(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise RegistryError("no time left before the deadline")
    return max(left, MIN_TIMEOUT)


class _Lookup:
    """One tag's lookup: the client, the credentials and the Authorization to send."""

    def __init__(self, registry: str, repository: str, deadline: float, on_call) -> None:
        self.registry, self.repository, self.deadline = registry, repository, deadline
        verify = getattr(settings, "REGISTRY_CA_BUNDLE", "") or True
        self.client = HttpClient(PROVIDER, api_url(registry), retries=0, on_call=on_call)
        self.client.session.verify = verify
        try:
            self.credentials: Credentials | None = credentials_for(registry, repository)
        except CredentialsInvalid as exc:
            raise RegistryError(f"REGISTRY_AUTH_FILE {exc}") from exc
        self.scope = f"repository:{repository}:pull"
        self.auth: tuple[str, str] | None = None
        self.headers = {"Accept": ", ".join(MANIFEST_TYPES)}
        token = TOKENS.get(registry, self.scope, self.credentials)
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, url: str, **kwargs) -> requests.Response:
        try:
            return self.client.request(
                method,
                url,
                expected=kwargs.pop("expected", ANSWERS),
                timeout=_timeout(self.deadline),
                **kwargs,
            )
        except RegistryError:
            raise
        except ProviderError as exc:
            network = exc.status is None and not exc.permanent
            raise RegistryError(str(exc), status=exc.status, unreachable=network) from exc

    def manifest(self, method: str, tag: str) -> requests.Response:
        path = f"/v2/{self.repository}/manifests/{quote(tag, safe='')}"
        kwargs = {"stream": True} if method == "GET" else {}
        return self.call(method, path, headers=self.headers, auth=self.auth, **kwargs)

    def authenticate(self, challenge: str) -> None:
        """Answer a 401's challenge: fetch a bearer token, or use basic credentials."""
        scheme, params = parse_challenge(challenge)
        if scheme == "bearer" and params.get("realm"):
            query = {"service": params.get("service", ""), "scope": self.scope}
            auth = (
                (self.credentials.username, self.credentials.password) if self.credentials else None
            )
            response = self.call("GET", params["realm"], params=query, auth=auth, expected=(200,))
            try:
                token, seconds = token_of(response.json())
            except ValueError:
                token, seconds = "", 0
            if not token:
                raise RegistryError("its token service answered without a token")
            TOKENS.put(self.registry, self.scope, self.credentials, token, seconds)
            self.headers["Authorization"] = f"Bearer {token}"
        elif scheme == "basic" and self.credentials is not None:
            self.headers.pop("Authorization", None)
            self.auth = (self.credentials.username, self.credentials.password)
        else:
            missing = "" if self.credentials else " and REGISTRY_AUTH_FILE has none for it"
            raise RegistryError(f"it asks for credentials{missing}", status=401)


def _digest_of(response: requests.Response) -> str:
    header = response.headers.get("Docker-Content-Digest", "").strip()
    if header:
        return strict_digest(header)
    body = response.raw.read(MAX_MANIFEST_BYTES + 1, decode_content=True)
    if len(body) > MAX_MANIFEST_BYTES:
        return ""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def tag_digest(
    registry: str,
    repository: str,
    tag: str,
    *,
    deadline: float,
    on_call: Callable[[CallRecord], None] | None = record_call,
) -> str:
    """The digest ``registry/repository:tag`` names now (``deadline``: time.monotonic()).

    Raises RegistryError: ``missing`` when the registry has no such tag, otherwise why
    it could not be asked (unreachable, refused the credentials, timed out...)."""
    lookup = _Lookup(registry, repository, deadline, on_call)
    try:
        return _tag_digest(lookup, tag)
    finally:
        lookup.client.session.close()


def _tag_digest(lookup: _Lookup, tag: str) -> str:
    response = lookup.manifest("HEAD", tag)
    if response.status_code == 401:
        lookup.authenticate(response.headers.get("WWW-Authenticate", ""))
        response = lookup.manifest("HEAD", tag)
    if response.status_code in (401, 403):
        raise RegistryError(f"it refused the credentials ({response.status_code})", status=401)
    if response.status_code == 404:
        raise RegistryError("it has no such tag", missing=True, status=404)
    if not response.headers.get("Docker-Content-Digest", "").strip():
        response = lookup.manifest("GET", tag)
        if response.status_code != 200:
            raise RegistryError(f"its manifest answered {response.status_code}")
    digest = _digest_of(response)
    if not digest:
        raise RegistryError("its answer carries no valid digest")
    return digest
