"""GitHub pull requests for Dockerfile fixes (REST API, the build target's token).

Contents: ``GET /repos/{o}/{r}/contents/{path}?ref=`` (base64 ``content``, blob
``sha``) and ``PUT`` with ``message``, ``content``, ``sha`` (the blob read: a stale
one answers 409) and ``branch``. Branches: ``GET /git/ref/heads/{b}``,
``POST /git/refs``, ``DELETE /git/refs/heads/{b}``. Pulls: ``GET /pulls?head=o:b
&base=&state=open``, ``POST /pulls``, ``PATCH``/``GET /pulls/{n}`` (``merged``,
``merge_commit_sha``). The merge's CI run: ``GET /actions/runs?head_sha=`` (of the
target's workflow when it names one). The token needs contents, pull requests and
actions (read) permissions.

Answers are checked before use: a field missing or of the wrong type, or a body that is
not JSON, is a transient ProviderError naming it; a PR's ``html_url`` is kept only when
it is an https link on the host's own site (``links.py``). ``DELETE /git/refs`` answers
422 "Reference does not exist" for a branch already gone; any other 422 (a protected
branch, a repository rule) is a permanent error naming GitHub's message.
"""

from __future__ import annotations

from urllib.parse import quote

from remediator.core.errors import ProviderError
from remediator.core.quoting import visible
from remediator.integrations.ci import CITarget, RunStatus
from remediator.integrations.github.client import API_URL, api_client, repo_path, run_status
from remediator.integrations.http import HttpClient
from remediator.integrations.links import web_link
from remediator.integrations.pulls import (
    PullRequest,
    RepoFile,
    answer_json,
    api_time,
    field,
    file_content,
    file_text,
    malformed,
    number_field,
    sha_field,
)

STALE_STATUSES = (409,)
"""GitHub: the ``sha`` given is no longer the file's ("is at X but expected Y")."""
GONE_MESSAGE = "reference does not exist"
"""GitHub's 422 message for deleting a branch that is not there (compared in lower case)."""
HOST = "github"


def _pull(data: dict, *, api_url: str) -> PullRequest:
    """One pull request as the REST API gives it; states are ``open`` and ``closed``,
    ``merged``/``merged_at`` tell a merged one."""
    number = number_field(data, "number", host=HOST)
    merged = data.get("merged") is True or bool(data.get("merged_at"))
    state = field(data, "state", str, host=HOST)
    if state not in ("open", "closed"):
        raise malformed(HOST, f"pull request #{number} is in state {visible(state, 40)!r}")
    return PullRequest(
        number=number,
        url=web_link(data.get("html_url"), api_url=api_url),
        state="merged" if merged else state,
        head_sha=sha_field(data.get("head"), "sha", host=HOST),
        merge_commit_sha=sha_field(data, "merge_commit_sha", host=HOST, optional=True)
        if merged
        else "",
        merged_at=api_time(data.get("merged_at"), host=HOST),
    )


class GitHubPulls:
    label = "GitHub pull request"

    def __init__(self, target: CITarget) -> None:
        self.target = target
        self.repo_path = repo_path(target)
        self.owner = self.repo_path.split("/")[2]
        self.api_url = (target.url or API_URL).rstrip("/")

    def _client(self) -> HttpClient:
        return api_client(self.target)

    def _pull(self, data: dict) -> PullRequest:
        return _pull(data, api_url=self.api_url)

    def branch_head(self, branch: str) -> str | None:
        path = f"{self.repo_path}/git/ref/heads/{quote(branch, safe='/')}"
        response = self._client().request("GET", path, expected=(200, 404))
        if response.status_code == 404:
            return None
        return sha_field(answer_json(response, host=HOST).get("object"), "sha", host=HOST)

    def branch_create(self, branch: str, *, base: str) -> str:
        sha = self.branch_head(base)
        if sha is None:
            raise ProviderError(f"github: no base branch {base!r}", permanent=True)
        body = {"ref": f"refs/heads/{branch}", "sha": sha}
        self._client().request("POST", f"{self.repo_path}/git/refs", json=body, expected=(201,))
        return sha

    def branch_delete(self, branch: str) -> None:
        path = f"{self.repo_path}/git/refs/heads/{quote(branch, safe='/')}"
        response = self._client().request("DELETE", path, expected=(204, 422))
        if response.status_code == 204:
            return
        try:
            message = response.json().get("message", "")
        except (ValueError, AttributeError):
            message = ""
        if not isinstance(message, str) or message.strip().lower() != GONE_MESSAGE:
            raise ProviderError(
                f"github: cannot delete branch {branch}: 422 "
                f"{visible(message or response.text, 200)}",
                permanent=True,
                status=422,
            )

    def file_read(self, path: str, *, ref: str) -> RepoFile:
        url = f"{self.repo_path}/contents/{quote(path, safe='/')}"
        response = self._client().request("GET", url, params={"ref": ref}, expected=(200, 404))
        data = (
            answer_json(response, host=HOST, kind=(dict, list))
            if response.status_code == 200
            else {}
        )
        if not isinstance(data, dict) or data.get("type") != "file":
            raise ProviderError(f"github: no file {path!r} on {ref!r}", permanent=True)
        content = field(data, "content", str, host=HOST)
        text = file_text(content, host="github", path=path)
        return RepoFile(text=text, version=sha_field(data, "sha", host=HOST))

    def file_commit(self, path: str, *, branch: str, text: str, version: str, message: str) -> str:
        body = {
            "message": message,
            "content": file_content(text),
            "sha": version,
            "branch": branch,
        }
        url = f"{self.repo_path}/contents/{quote(path, safe='/')}"
        try:
            response = self._client().request("PUT", url, json=body, expected=(200, 201))
        except ProviderError as exc:
            if exc.status in STALE_STATUSES:
                raise ProviderError(
                    f"github: {path} on {branch} changed meanwhile; reading it again",
                    permanent=False,
                    status=exc.status,
                ) from exc
            raise
        return sha_field(answer_json(response, host=HOST).get("commit"), "sha", host=HOST)

    def pull_find_open(self, branch: str, *, base: str) -> PullRequest | None:
        params = {"head": f"{self.owner}:{branch}", "base": base, "state": "open"}
        response = self._client().request("GET", f"{self.repo_path}/pulls", params=params)
        found = answer_json(response, host=HOST, kind=list)
        if not found:
            return None
        if not isinstance(found[0], dict):
            raise malformed(HOST, "the list of pull requests holds something else")
        return self._pull(found[0])

    def pull_open(self, *, branch: str, base: str, title: str, body: str) -> PullRequest:
        data = {"title": title, "head": branch, "base": base, "body": body}
        response = self._client().request(
            "POST", f"{self.repo_path}/pulls", json=data, expected=(201,)
        )
        return self._pull(answer_json(response, host=HOST))

    def pull_update(self, number: int, *, title: str, body: str) -> PullRequest:
        path = f"{self.repo_path}/pulls/{number}"
        data = {"title": title, "body": body}
        response = self._client().request("PATCH", path, json=data, expected=(200,))
        return self._pull(answer_json(response, host=HOST))

    def pull_get(self, number: int) -> PullRequest:
        path = f"{self.repo_path}/pulls/{number}"
        return self._pull(
            answer_json(self._client().request("GET", path, expected=(200,)), host=HOST)
        )

    def merge_build(self, pull: PullRequest, *, base: str) -> RunStatus | None:
        if self.target.workflow:
            workflow = quote(self.target.workflow, safe="")
            path = f"{self.repo_path}/actions/workflows/{workflow}/runs"
        else:
            path = f"{self.repo_path}/actions/runs"
        params = {"head_sha": pull.merge_commit_sha, "branch": base, "per_page": "100"}
        answer = answer_json(self._client().request("GET", path, params=params), host=HOST)
        runs = answer.get("workflow_runs")
        if not isinstance(runs, list):
            raise malformed(HOST, "field 'workflow_runs' is not a list")
        runs = [
            r
            for r in runs
            if isinstance(r, dict)
            and isinstance(r.get("id"), int)
            and r.get("head_sha", pull.merge_commit_sha) == pull.merge_commit_sha
        ]
        if not runs:
            return None
        newest = max(runs, key=lambda r: r["id"])
        return run_status(newest, {"run_id": newest["id"]})

    def build_status(self, provider_state: dict) -> RunStatus:
        path = f"{self.repo_path}/actions/runs/{provider_state['run_id']}"
        run = answer_json(self._client().request("GET", path, expected=(200,)), host=HOST)
        return run_status(run, dict(provider_state))
