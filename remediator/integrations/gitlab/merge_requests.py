"""GitLab merge requests for Dockerfile fixes (REST API v4, ``PRIVATE-TOKEN``).

Files: ``GET /projects/:id/repository/files/:file_path?ref=`` (base64 ``content``,
``last_commit_id``); commits: ``POST /projects/:id/repository/commits`` with one
``update`` action carrying ``last_commit_id`` (a file changed since answers 400).
Branches: ``GET``/``POST``/``DELETE /projects/:id/repository/branches``. Merge
requests: ``GET``/``POST /projects/:id/merge_requests`` (``source_branch``,
``target_branch``, ``title``, ``description``), ``GET``/``PUT .../:iid``
(``state`` opened/merged/closed, ``merge_commit_sha``). The merge's pipeline:
``GET /projects/:id/pipelines?sha=&ref=``. The API token (``api_token_env``) needs
the ``api`` scope.
"""

from __future__ import annotations

from urllib.parse import quote

from remediator.core.errors import ProviderError
from remediator.integrations.ci import CITarget, RunStatus
from remediator.integrations.gitlab.client import pipeline_status, project_api
from remediator.integrations.http import HttpClient, require_secret
from remediator.integrations.pulls import (
    PullRequest,
    RepoFile,
    api_time,
    file_content,
    file_text,
)

STALE_MARKERS = ("changed since", "has been changed")
"""GitLab's 400 when ``last_commit_id`` is no longer the file's last commit."""


def _merge_request(data: dict) -> PullRequest:
    state = {"opened": "open", "merged": "merged"}.get(data.get("state", ""), "closed")
    built = ""
    if state == "merged":  # fast-forward merges have no merge commit: the head is built
        built = (
            data.get("merge_commit_sha") or data.get("squash_commit_sha") or data.get("sha") or ""
        )
    merged_at = data.get("merged_at")
    return PullRequest(
        number=int(data["iid"]),
        url=data.get("web_url", ""),
        state=state,
        head_sha=data.get("sha") or "",
        merge_commit_sha=built,
        merged_at=api_time(merged_at),
    )


class GitLabMergeRequests:
    label = "GitLab merge request"

    def __init__(self, target: CITarget) -> None:
        self.target = target
        self.base_url, self.project_path = project_api(target)

    def _client(self) -> HttpClient:
        token = require_secret(
            self.target.api_token_env, what=f"GitLab API token of {self.target.name}"
        )
        return HttpClient("gitlab", self.base_url, headers={"PRIVATE-TOKEN": token})

    def _branch_path(self, branch: str) -> str:
        return f"{self.project_path}/repository/branches/{quote(branch, safe='')}"

    def branch_head(self, branch: str) -> str | None:
        response = self._client().request("GET", self._branch_path(branch), expected=(200, 404))
        return None if response.status_code == 404 else response.json()["commit"]["id"]

    def branch_create(self, branch: str, *, base: str) -> str:
        path = f"{self.project_path}/repository/branches"
        body = {"branch": branch, "ref": base}
        return (
            self._client().request("POST", path, json=body, expected=(201,)).json()["commit"]["id"]
        )

    def branch_delete(self, branch: str) -> None:
        self._client().request("DELETE", self._branch_path(branch), expected=(204, 404))

    def file_read(self, path: str, *, ref: str) -> RepoFile:
        url = f"{self.project_path}/repository/files/{quote(path, safe='')}"
        response = self._client().request("GET", url, params={"ref": ref}, expected=(200, 404))
        if response.status_code == 404:
            raise ProviderError(f"gitlab: no file {path!r} on {ref!r}", permanent=True)
        data = response.json()
        text = file_text(data.get("content", ""), host="gitlab", path=path)
        return RepoFile(text=text, version=data["last_commit_id"])

    def file_commit(self, path: str, *, branch: str, text: str, version: str, message: str) -> str:
        body = {
            "branch": branch,
            "commit_message": message,
            "actions": [
                {
                    "action": "update",
                    "file_path": path,
                    "content": file_content(text),
                    "encoding": "base64",
                    "last_commit_id": version,
                }
            ],
        }
        url = f"{self.project_path}/repository/commits"
        try:
            response = self._client().request("POST", url, json=body, expected=(201,))
        except ProviderError as exc:
            if exc.status in (400, 409) and any(m in str(exc) for m in STALE_MARKERS):
                raise ProviderError(
                    f"gitlab: {path} on {branch} changed meanwhile; reading it again",
                    permanent=False,
                    status=exc.status,
                ) from exc
            raise
        return response.json()["id"]

    def pull_find_open(self, branch: str, *, base: str) -> PullRequest | None:
        params = {"state": "opened", "source_branch": branch, "target_branch": base}
        path = f"{self.project_path}/merge_requests"
        found = self._client().request("GET", path, params=params, expected=(200,)).json()
        return _merge_request(found[0]) if found else None

    def pull_open(self, *, branch: str, base: str, title: str, body: str) -> PullRequest:
        data = {"source_branch": branch, "target_branch": base, "title": title}
        data["description"] = body
        path = f"{self.project_path}/merge_requests"
        return _merge_request(self._client().request("POST", path, json=data).json())

    def pull_update(self, number: int, *, title: str, body: str) -> PullRequest:
        path = f"{self.project_path}/merge_requests/{number}"
        data = {"title": title, "description": body}
        return _merge_request(self._client().request("PUT", path, json=data).json())

    def pull_get(self, number: int) -> PullRequest:
        path = f"{self.project_path}/merge_requests/{number}"
        return _merge_request(self._client().request("GET", path, expected=(200,)).json())

    def merge_build(self, pull: PullRequest, *, base: str) -> RunStatus | None:
        params = {"sha": pull.merge_commit_sha, "ref": base, "order_by": "id", "sort": "desc"}
        path = f"{self.project_path}/pipelines"
        found = self._client().request("GET", path, params=params, expected=(200,)).json()
        if not found:
            return None
        return pipeline_status(found[0], {"pipeline_id": found[0]["id"]})

    def build_status(self, provider_state: dict) -> RunStatus:
        path = f"{self.project_path}/pipelines/{provider_state['pipeline_id']}"
        pipeline = self._client().request("GET", path, expected=(200,)).json()
        return pipeline_status(pipeline, dict(provider_state))
