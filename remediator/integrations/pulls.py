"""The contract repository hosts share for fix pull requests (GitHub PRs, GitLab MRs).

A host reads a file at a ref, creates and deletes branches, commits one file to a
branch (with the version it read as a precondition: a file changed meanwhile is
refused, never overwritten), opens, updates and reads pull requests, and finds the
CI run of a merge commit. The engine decides what to push and when; no method
force-pushes.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import requests

from remediator.core.errors import ProviderError
from remediator.core.quoting import visible
from remediator.integrations.ci import RunStatus

PULL_STATES = ("open", "merged", "closed")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def file_text(content: str, *, host: str, path: str) -> str:
    """A file's base64 ``content`` as both hosts' APIs give it (GitHub wraps its lines),
    as text; a permanent ProviderError when it is not UTF-8."""
    try:
        return base64.b64decode(content or "").decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ProviderError(f"{host}: {path} is not UTF-8 text", permanent=True) from exc


def file_content(text: str) -> str:
    """``text`` as the base64 both hosts' APIs take."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def api_time(value: object, *, host: str = "host") -> datetime | None:
    """An ISO 8601 time from a host's API (``…Z`` or with an offset), or None; a transient
    ProviderError when it is something else."""
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise malformed(host, f"a time that is not ISO 8601: {visible(value, 60)}") from exc


def malformed(host: str, what: str) -> ProviderError:
    """The host answered, but not as its API is documented: transient (a proxy's page, a
    deploy under way), so the action's retries decide, and named."""
    return ProviderError(f"{host}: unexpected answer: {what}", permanent=False)


def answer_json(
    response: requests.Response, *, host: str, kind: type | tuple[type, ...] = dict
) -> Any:
    """The JSON document of ``response`` when it is a ``kind`` (dict or list), else a
    transient ProviderError naming the call."""
    call = f"{response.request.method} {response.request.path_url.split('?')[0]}"
    try:
        data = response.json()
    except ValueError as exc:
        shown = visible(response.text, 80)
        raise malformed(
            host, f"{call} answered {response.status_code} without JSON: {shown}"
        ) from exc
    if not isinstance(data, kind):
        wanted = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise malformed(host, f"{call} answered a JSON {type(data).__name__}, not a {wanted}")
    return data


def field(data: dict, name: str, kind: type | tuple, *, host: str) -> Any:
    """``data[name]`` when it is of ``kind`` (``bool`` never counts as ``int``), else a
    transient ProviderError naming the field."""
    value = data.get(name)
    if isinstance(value, kind) and not (isinstance(value, bool) and kind is int):
        return value
    raise malformed(host, f"field {name!r} is {visible(repr(value), 60)}")


def number_field(data: dict, name: str, *, host: str) -> int:
    """A pull request's number (GitHub) or iid (GitLab): a positive 32-bit integer."""
    value = field(data, name, int, host=host)
    if not 0 < value < 2**31:
        raise malformed(host, f"field {name!r} is {value}, not a pull request number")
    return value


def sha_field(data: object, name: str, *, host: str, optional: bool = False) -> str:
    """A commit or blob sha (40 or 64 hex digits); '' when ``optional`` and absent."""
    value = data.get(name) if isinstance(data, dict) else None
    if optional and value in (None, ""):
        return ""
    if isinstance(value, str) and _SHA.fullmatch(value):
        return value
    raise malformed(host, f"field {name!r} is {visible(repr(value), 60)}, not a sha")


@dataclass(frozen=True)
class RepoFile:
    text: str
    version: str
    """What a commit must name to replace it: GitHub's blob sha, GitLab's last_commit_id."""


@dataclass(frozen=True)
class PullRequest:
    number: int
    """GitHub's PR number, GitLab's MR iid."""
    url: str
    state: str
    """One of PULL_STATES."""
    head_sha: str
    merge_commit_sha: str = ""
    merged_at: datetime | None = None
    locked: bool = False
    """GitLab is merging it right now (state ``locked``): open, but leave its branch alone."""


class PullHost(Protocol):
    label: str

    def branch_head(self, branch: str) -> str | None:
        """The branch's head commit, or None when there is no such branch."""
        ...

    def branch_create(self, branch: str, *, base: str) -> str:
        """Create ``branch`` at ``base``'s head; its sha."""
        ...

    def branch_delete(self, branch: str) -> None: ...

    def file_read(self, path: str, *, ref: str) -> RepoFile: ...

    def file_commit(self, path: str, *, branch: str, text: str, version: str, message: str) -> str:
        """Commit ``text`` as ``path`` on ``branch`` on top of its head; the new head sha.
        A transient ProviderError when ``version`` is no longer the file's."""
        ...

    def pull_find_open(self, branch: str, *, base: str) -> PullRequest | None: ...

    def pull_open(self, *, branch: str, base: str, title: str, body: str) -> PullRequest: ...

    def pull_update(self, number: int, *, title: str, body: str) -> PullRequest: ...

    def pull_get(self, number: int) -> PullRequest: ...

    def merge_build(self, pull: PullRequest, *, base: str) -> RunStatus | None:
        """The CI run of the merge commit on ``base``, once there is one."""
        ...

    def build_status(self, provider_state: dict) -> RunStatus:
        """Where the run ``merge_build`` found is now."""
        ...


__all__ = ["PULL_STATES", "PullHost", "PullRequest", "RepoFile"]
