"""GitHub pull requests for Dockerfile fixes (REST API, the build target's token).

Contents: ``GET /repos/{o}/{r}/contents/{path}?ref=`` (base64 ``content``, blob
``sha``) and ``PUT`` with ``message``, ``content``, ``sha`` (the blob read: a stale
one answers 409) and ``branch``. Branches: ``GET /git/ref/heads/{b}``,
``POST /git/refs``, ``DELETE /git/refs/heads/{b}``. Pulls: ``GET /pulls?head=o:b
&base=&state=open``, ``POST /pulls``, ``PATCH``/``GET /pulls/{n}`` (``merged``,
``merge_commit_sha``). The merge's CI run: ``GET /actions/runs?head_sha=`` (of the
target's workflow when it names one). The token needs contents, pull requests and
actions (read) permissions.
"""

from __future__ import annotations

from urllib.parse import quote

from remediator.core.errors import ProviderError
from remediator.integrations.ci import CITarget, RunStatus
from remediator.integrations.github.client import api_client, repo_path, run_status
from remediator.integrations.http import HttpClient
from remediator.integrations.pulls import (
    PullRequest,
    RepoFile,
    api_time,
    file_content,
    file_text,
)

STALE_STATUSES = (409,)
"""GitHub: the ``sha`` given is no longer the file's ("is at X but expected Y")."""


def _pull(data: dict) -> PullRequest:
    merged = bool(data.get("merged")) or bool(data.get("merged_at"))
    state = "merged" if merged else ("open" if data.get("state") == "open" else "closed")
    merged_at = data.get("merged_at")
    return PullRequest(
        number=int(data["number"]),
        url=data.get("html_url", ""),
        state=state,
        head_sha=(data.get("head") or {}).get("sha", ""),
        merge_commit_sha=(data.get("merge_commit_sha") or "") if merged else "",
        merged_at=api_time(merged_at),
    )


class GitHubPulls:
    label = "GitHub pull request"

    def __init__(self, target: CITarget) -> None:
        self.target = target
        self.repo_path = repo_path(target)
        self.owner = self.repo_path.split("/")[2]

    def _client(self) -> HttpClient:
        return api_client(self.target)

    def branch_head(self, branch: str) -> str | None:
        path = f"{self.repo_path}/git/ref/heads/{quote(branch, safe='/')}"
        response = self._client().request("GET", path, expected=(200, 404))
        if response.status_code == 404:
            return None
        return response.json()["object"]["sha"]

    def branch_create(self, branch: str, *, base: str) -> str:
        sha = self.branch_head(base)
        if sha is None:
            raise ProviderError(f"github: no base branch {base!r}", permanent=True)
        body = {"ref": f"refs/heads/{branch}", "sha": sha}
        self._client().request("POST", f"{self.repo_path}/git/refs", json=body, expected=(201,))
        return sha

    def branch_delete(self, branch: str) -> None:
        path = f"{self.repo_path}/git/refs/heads/{quote(branch, safe='/')}"
        self._client().request("DELETE", path, expected=(204, 422))  # 422: already gone

    def file_read(self, path: str, *, ref: str) -> RepoFile:
        url = f"{self.repo_path}/contents/{quote(path, safe='/')}"
        response = self._client().request("GET", url, params={"ref": ref}, expected=(200, 404))
        data = response.json() if response.status_code == 200 else {}
        if not isinstance(data, dict) or data.get("type") != "file":
            raise ProviderError(f"github: no file {path!r} on {ref!r}", permanent=True)
        text = file_text(data.get("content", ""), host="github", path=path)
        return RepoFile(text=text, version=data["sha"])

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
        return response.json()["commit"]["sha"]

    def pull_find_open(self, branch: str, *, base: str) -> PullRequest | None:
        params = {"head": f"{self.owner}:{branch}", "base": base, "state": "open"}
        found = self._client().request("GET", f"{self.repo_path}/pulls", params=params).json()
        return _pull(found[0]) if found else None

    def pull_open(self, *, branch: str, base: str, title: str, body: str) -> PullRequest:
        data = {"title": title, "head": branch, "base": base, "body": body}
        response = self._client().request(
            "POST", f"{self.repo_path}/pulls", json=data, expected=(201,)
        )
        return _pull(response.json())

    def pull_update(self, number: int, *, title: str, body: str) -> PullRequest:
        path = f"{self.repo_path}/pulls/{number}"
        data = {"title": title, "body": body}
        return _pull(self._client().request("PATCH", path, json=data, expected=(200,)).json())

    def pull_get(self, number: int) -> PullRequest:
        path = f"{self.repo_path}/pulls/{number}"
        return _pull(self._client().request("GET", path, expected=(200,)).json())

    def merge_build(self, pull: PullRequest, *, base: str) -> RunStatus | None:
        if self.target.workflow:
            workflow = quote(self.target.workflow, safe="")
            path = f"{self.repo_path}/actions/workflows/{workflow}/runs"
        else:
            path = f"{self.repo_path}/actions/runs"
        params = {"head_sha": pull.merge_commit_sha, "branch": base, "per_page": "100"}
        runs = self._client().request("GET", path, params=params).json().get("workflow_runs", [])
        runs = [
            r for r in runs if r.get("head_sha", pull.merge_commit_sha) == pull.merge_commit_sha
        ]
        if not runs:
            return None
        newest = max(runs, key=lambda r: int(r.get("id", 0)))
        return run_status(newest, {"run_id": newest["id"]})

    def build_status(self, provider_state: dict) -> RunStatus:
        path = f"{self.repo_path}/actions/runs/{provider_state['run_id']}"
        run = self._client().request("GET", path, expected=(200,)).json()
        return run_status(run, dict(provider_state))
