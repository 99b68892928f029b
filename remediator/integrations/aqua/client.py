"""Aqua API (self-hosted Aqua Enterprise or Aqua Platform SaaS): re-scan, block/allow,
acknowledge.

The bearer token comes from :mod:`.auth` (self-hosted login, SaaS sign-in or a signed
API-key token request, chosen by settings) and is cached per process until shortly
before it expires; a 401 fetches a fresh one once and repeats the call.

Aqua names a registry by its *integration name* ("Docker Hub"), not its host:
``AQUA_REGISTRY_NAMES`` maps hosts to names (docker.io -> "Docker Hub" unless
configured; any other host is used as its own name).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import requests
from django.conf import settings

from remediator.core.errors import ProviderError
from remediator.integrations.http import HttpClient, ping_error

from .auth import AquaAuth, aqua_auth_from_settings

DOCKER_HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")


def aqua_registry_name(registry: str) -> str:
    """The Aqua registry integration name for a registry host (or a name already)."""
    names: dict[str, str] = dict(settings.AQUA_REGISTRY_NAMES)
    if registry in names:
        return names[registry]
    if registry in DOCKER_HUB_HOSTS:
        return names.get("docker.io", "Docker Hub")
    return registry


@dataclass(frozen=True)
class AquaImage:
    registry: str
    """Aqua registry integration name, see :func:`aqua_registry_name`."""
    repository: str
    tag: str

    @classmethod
    def of(cls, registry_host: str, repository: str, tag: str) -> AquaImage:
        return cls(aqua_registry_name(registry_host), repository, tag)


@dataclass(frozen=True)
class AquaIssue:
    """One vulnerability in one resource of one image, as Aqua acknowledges it."""

    image_name: str
    """repository:tag"""
    registry_name: str
    issue_name: str
    """CVE-…"""
    resource_name: str
    resource_version: str
    resource_type: str = "package"
    """"package" or "executable"."""
    resource_format: str = ""
    resource_cpe: str = ""
    resource_path: str = ""
    resource_hash: str = ""
    fix_version: str = ""
    issue_type: str = "vulnerability"


class AquaClient:
    def __init__(
        self,
        url: str | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.url = (settings.AQUA_URL if url is None else url).rstrip("/")
        if not self.url:
            raise ProviderError("aqua: AQUA_URL is not set", permanent=True)
        if username is None and password is None:
            self.auth = aqua_auth_from_settings()
        else:
            self.auth = AquaAuth(
                "login",
                self.url,
                username=settings.AQUA_USERNAME if username is None else username,
                password=settings.AQUA_PASSWORD if password is None else password,
            )
        verify: bool | str = settings.AQUA_VERIFY_TLS
        if verify and settings.AQUA_CA_BUNDLE:
            verify = settings.AQUA_CA_BUNDLE
        self.http = HttpClient("aqua", self.url, verify=verify)
        self.token = ""

    @staticmethod
    def configured() -> bool:
        return bool(settings.AQUA_URL)

    def login(self, *, fresh: bool = True) -> str:
        """Get a token the configured way (``fresh``: not the cached one)."""
        self.token = self.auth.token(self.http, fresh=fresh)
        return self.token

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if not self.token:
            self.login(fresh=False)
        try:
            return self.http.request(method, path, headers=self._auth(), **kwargs)
        except ProviderError as exc:
            if exc.status != 401:
                raise
        self.login()  # the token expired or was revoked: once more with a fresh one
        return self.http.request(method, path, headers=self._auth(), **kwargs)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def rescan(self, registry: str, repository: str, tag: str, *, full: bool = False) -> None:
        """Ask Aqua to scan the image again (``registry``: host or Aqua name)."""
        image = AquaImage.of(registry, repository, tag)
        self._call(
            "POST",
            "/api/v1/images/rescan",
            json={"full_rescan": full, "images": [asdict(image)]},
            expected=(200, 201, 204),
        )

    def disallow(self, images: Iterable[AquaImage], comment: str) -> None:
        """Mark images as blocked (risky) in Aqua."""
        self._permission("disallow", images, comment)

    def allow(self, images: Iterable[AquaImage], comment: str) -> None:
        self._permission("allow", images, comment)

    def _permission(self, verb: str, images: Iterable[AquaImage], comment: str) -> None:
        self._call(
            "POST",
            f"/api/v1/images/{verb}",
            json={"comment": comment, "images": [asdict(i) for i in images]},
            expected=(200, 201, 204),
        )

    def acknowledge(
        self, issues: Iterable[AquaIssue], comment: str, expiration_days: int | None = None
    ) -> None:
        """Acknowledge (accept the risk of) vulnerabilities, optionally for N days."""
        rows = []
        for issue in issues:
            row = asdict(issue)
            row["registry_name"] = aqua_registry_name(issue.registry_name)
            if expiration_days is not None:
                row["expiration_days"] = expiration_days
            rows.append(row)
        self._call(
            "POST",
            "/api/v2/risks/acknowledge",
            json={"comment": comment, "issues": rows},
            expected=(200, 201, 204),
        )

    def ping(self) -> str:
        return ping_error(self.login)
