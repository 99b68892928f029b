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

Merge request states (the MR API's ``state``): ``opened``, ``closed``, ``locked`` and
``merged``. ``locked`` is GitLab merging it right now, so it is still open (never taken
for closed); a state GitLab may add later is a transient error, named. Answers are
checked as GitHub's are (``pulls.py``); ``web_url`` is kept only on the host's own site.
"""

from __future__ import annotations

from urllib.parse import quote

from remediator.core.errors import ProviderError
from remediator.core.quoting import visible
from remediator.integrations.ci import CITarget, RunStatus
from remediator.integrations.gitlab.client import pipeline_status, project_api
from remediator.integrations.http import HttpClient, require_secret
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

STALE_MARKERS = ("changed since", "has been changed")
"""GitLab's 400 when ``last_commit_id`` is no longer the file's last commit."""


HOST = "gitlab"
STATES = {"opened": "open", "locked": "open", "merged": "merged", "closed": "closed"}
"""GitLab's merge request states; ``locked``: being merged right now, so still open."""
OPEN_STATES = ("opened", "locked")
"""What ``pull_find_open`` asks for, in turn (the list API filters on one state)."""


def _merge_request(data: dict, *, api_url: str) -> PullRequest:
    number = number_field(data, "iid", host=HOST)
    given = field(data, "state", str, host=HOST)
    state = STATES.get(given)
    if state is None:
        raise malformed(HOST, f"merge request !{number} is in state {visible(given, 40)!r}")
    head = sha_field(data, "sha", host=HOST, optional=True)
    built = ""
    if state == "merged":  # fast-forward merges have no merge commit: the head is built
        built = (
            sha_field(data, "merge_commit_sha", host=HOST, optional=True)
            or sha_field(data, "squash_commit_sha", host=HOST, optional=True)
            or head
        )
    return PullRequest(
        number=number,
        url=web_link(data.get("web_url"), api_url=api_url),
        state=state,
        head_sha=head,
        merge_commit_sha=built,
        merged_at=api_time(data.get("merged_at"), host=HOST),
        locked=given == "locked",
    )


class GitLabMergeRequests:
    label = "GitLab merge request"

    def __init__(self, target: CITarget) -> None:
        self.target = target
        self.base_url, self.project_path = project_api(target)

    def _merge_request(self, data: dict) -> PullRequest:
        return _merge_request(data, api_url=self.base_url)

    def _json(self, response, kind: type = dict):
        return answer_json(response, host=HOST, kind=kind)

    def _client(self) -> HttpClient:
        token = require_secret(
            self.target.api_token_env, what=f"GitLab API token of {self.target.name}"
        )
        return HttpClient("gitlab", self.base_url, headers={"PRIVATE-TOKEN": token})

    def _branch_path(self, branch: str) -> str:
        return f"{self.project_path}/repository/branches/{quote(branch, safe='')}"

    def branch_head(self, branch: str) -> str | None:
        response = self._client().request("GET", self._branch_path(branch), expected=(200, 404))
        if response.status_code == 404:
            return None
        return sha_field(self._json(response).get("commit"), "id", host=HOST)

    def branch_create(self, branch: str, *, base: str) -> str:
        path = f"{self.project_path}/repository/branches"
        body = {"branch": branch, "ref": base}
        response = self._client().request("POST", path, json=body, expected=(201,))
        return sha_field(self._json(response).get("commit"), "id", host=HOST)

    def branch_delete(self, branch: str) -> None:
        self._client().request("DELETE", self._branch_path(branch), expected=(204, 404))

    def file_read(self, path: str, *, ref: str) -> RepoFile:
        url = f"{self.project_path}/repository/files/{quote(path, safe='')}"
        response = self._client().request("GET", url, params={"ref": ref}, expected=(200, 404))
        if response.status_code == 404:
            raise ProviderError(f"gitlab: no file {path!r} on {ref!r}", permanent=True)
        data = self._json(response)
        text = file_text(field(data, "content", str, host=HOST), host="gitlab", path=path)
        return RepoFile(text=text, version=sha_field(data, "last_commit_id", host=HOST))

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
        return sha_field(self._json(response), "id", host=HOST)

    def pull_find_open(self, branch: str, *, base: str) -> PullRequest | None:
        path = f"{self.project_path}/merge_requests"
        client = self._client()
        for state in OPEN_STATES:
            params = {"state": state, "source_branch": branch, "target_branch": base}
            found = self._json(client.request("GET", path, params=params, expected=(200,)), list)
            if found:
                if not isinstance(found[0], dict):
                    raise malformed(HOST, "the list of merge requests holds something else")
                return self._merge_request(found[0])
        return None

    def pull_open(self, *, branch: str, base: str, title: str, body: str) -> PullRequest:
        data = {"source_branch": branch, "target_branch": base, "title": title}
        data["description"] = body
        path = f"{self.project_path}/merge_requests"
        return self._merge_request(self._json(self._client().request("POST", path, json=data)))

    def pull_update(self, number: int, *, title: str, body: str) -> PullRequest:
        path = f"{self.project_path}/merge_requests/{number}"
        data = {"title": title, "description": body}
        return self._merge_request(self._json(self._client().request("PUT", path, json=data)))

    def pull_get(self, number: int) -> PullRequest:
        path = f"{self.project_path}/merge_requests/{number}"
        response = self._client().request("GET", path, expected=(200,))
        return self._merge_request(self._json(response))

    def merge_build(self, pull: PullRequest, *, base: str) -> RunStatus | None:
        params = {"sha": pull.merge_commit_sha, "ref": base, "order_by": "id", "sort": "desc"}
        path = f"{self.project_path}/pipelines"
        found = self._json(
            self._client().request("GET", path, params=params, expected=(200,)), list
        )
        if not found:
            return None
        if not isinstance(found[0], dict):
            raise malformed(HOST, "the list of pipelines holds something else")
        pipeline_id = field(found[0], "id", int, host=HOST)
        return pipeline_status(found[0], {"pipeline_id": pipeline_id})

    def build_status(self, provider_state: dict) -> RunStatus:
        path = f"{self.project_path}/pipelines/{provider_state['pipeline_id']}"
        pipeline = self._json(self._client().request("GET", path, expected=(200,)))
        return pipeline_status(pipeline, dict(provider_state))
