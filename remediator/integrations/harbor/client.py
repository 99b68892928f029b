"""Harbor's v2.0 API: fetch an artifact's vulnerability report, ask for a re-scan.

Paths follow Harbor's ``api/v2.0/swagger.yaml`` (basePath ``/api/v2.0``): the
repository name is double URL-encoded when it contains ``/`` (``a%252Fb``).
Credentials: basic auth from ``HARBOR_USERNAME`` and ``HARBOR_PASSWORD`` (or
``HARBOR_PASSWORD_FILE``); a robot account with "read artifact" is enough.
"""

from __future__ import annotations

import posixpath
from urllib.parse import quote

from django.conf import settings

from remediator.core.errors import ProviderError
from remediator.core.secrets import read_secret
from remediator.integrations.http import HttpClient

ACCEPT_VULNERABILITIES = (
    "application/vnd.security.vulnerability.report; version=1.1, "
    "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"
)


PROJECTS = "/api/v2.0/projects/"


def _segment(value: str) -> str:
    return quote(value, safe="")


def segment_problem(value: str, what: str) -> str:
    """'' when ``value`` can be one path segment, else why not."""
    if value in ("", ".", ".."):
        return f"harbor: {what} {value!r} is not a name"
    if "/" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return f"harbor: {what} {value!r} contains '/' or control characters"
    return ""


def artifact_problem(project: str, repository: str, reference: str) -> str:
    """'' when the three can address an artifact, else why not (the repository may
    hold '/': each of its parts is checked)."""
    checks = [(project, "project"), (reference, "reference")]
    checks += [(part, "repository part") for part in repository.split("/")]
    return next((p for value, what in checks if (p := segment_problem(value, what))), "")


def artifact_path(project: str, repository: str, reference: str) -> str:
    """``/api/v2.0/projects/{p}/repositories/{double-encoded repo}/artifacts/{ref}``.

    Each segment is checked and quoted on its own; a permanent ProviderError when a
    segment is refused or the path would leave ``/api/v2.0/projects/``.
    """
    problem = artifact_problem(project, repository, reference)
    if problem:
        raise ProviderError(problem, permanent=True)
    path = (
        f"{PROJECTS}{_segment(project)}"
        f"/repositories/{_segment(_segment(repository))}"
        f"/artifacts/{quote(reference, safe=':')}"
    )
    if not posixpath.normpath(path).startswith(PROJECTS) or "/../" in path:
        raise ProviderError(f"harbor: refused path outside {PROJECTS}", permanent=True)
    return path


class HarborClient:
    def __init__(self, base_url: str, username: str = "", password: str = "") -> None:
        auth = (username, password) if username else None
        self.http = HttpClient("harbor", base_url, auth=auth)

    @classmethod
    def from_settings(cls) -> HarborClient:
        """The configured Harbor; a permanent ProviderError when HARBOR_URL is unset."""
        base_url = settings.HARBOR_URL
        if not base_url:
            raise ProviderError("harbor: HARBOR_URL is not set", permanent=True)
        return cls(
            base_url,
            settings.HARBOR_USERNAME,
            read_secret("HARBOR_PASSWORD", required=False),
        )

    def vulnerability_report(self, project: str, repository: str, reference: str) -> bytes:
        """The raw report body (JSON keyed by the report MIME type)."""
        path = artifact_path(project, repository, reference) + "/additions/vulnerabilities"
        response = self.http.request(
            "GET",
            path,
            expected=(200,),
            headers={"X-Accept-Vulnerabilities": ACCEPT_VULNERABILITIES},
        )
        return response.content

    def scan(self, project: str, repository: str, reference: str) -> None:
        """Ask Harbor to scan the artifact again (answers 202)."""
        self.http.request("POST", artifact_path(project, repository, reference) + "/scan")
