"""GitLab CI: run a pipeline with a trigger token, follow it with an API token.

``POST {base}/api/v4/projects/{id}/trigger/pipeline`` (form fields ``token``,
``ref``, ``variables[KEY]``) answers with the pipeline (``id``, ``status``,
``web_url``); ``GET {base}/api/v4/projects/{id}/pipelines/{pipeline_id}`` with
``PRIVATE-TOKEN`` (``read_api`` scope) follows it.
"""

from __future__ import annotations

from urllib.parse import quote

from remediator.core.errors import ProviderError
from remediator.integrations.ci import CITarget, RunStatus, TriggerRequest
from remediator.integrations.http import HttpClient, ping_error, require_secret

GITLAB_URL = "https://gitlab.com"

STATES = {
    "created": "queued",
    "waiting_for_resource": "queued",
    "preparing": "queued",
    "pending": "queued",
    "scheduled": "queued",
    "running": "running",
    "waiting_for_callback": "running",
    "manual": "running",
    "canceling": "running",
    "success": "succeeded",
    "failed": "failed",
    "canceled": "cancelled",
    "skipped": "cancelled",
}


class GitLabCI:
    label = "GitLab CI"
    slug = "gitlab"

    def __init__(self, target: CITarget) -> None:
        self.target = target
        project = target.project.strip().strip("/")
        if not project:
            raise ProviderError(
                f"build target {target.name}: project (id or path) is required", permanent=True
            )
        base = (target.url or GITLAB_URL).rstrip("/").removesuffix("/api/v4")
        self.base_url = f"{base}/api/v4"
        self.project_path = f"/projects/{quote(project, safe='')}"

    def _api_headers(self) -> dict[str, str]:
        if not self.target.api_token_env:
            return {}
        token = require_secret(
            self.target.api_token_env, what=f"GitLab API token of {self.target.name}"
        )
        return {"PRIVATE-TOKEN": token}

    def trigger(self, request: TriggerRequest) -> RunStatus:
        trigger_token = require_secret(
            self.target.token_env, what=f"GitLab trigger token of {self.target.name}"
        )
        self._api_headers()  # fail before triggering when polling could not work
        form = {"token": trigger_token, "ref": self.target.ref}
        form |= {f"variables[{k}]": v for k, v in request.variables().items()}
        pipeline = (
            HttpClient("gitlab", self.base_url)
            .request(
                "POST", f"{self.project_path}/trigger/pipeline", data=form, expected=(200, 201)
            )
            .json()
        )
        return pipeline_status(pipeline, {"pipeline_id": pipeline["id"]})

    def status(self, provider_state: dict) -> RunStatus:
        client = HttpClient("gitlab", self.base_url, headers=self._api_headers())
        pipeline_id = provider_state["pipeline_id"]
        pipeline = client.request(
            "GET", f"{self.project_path}/pipelines/{pipeline_id}", expected=(200,)
        ).json()
        return pipeline_status(pipeline, dict(provider_state))

    def ping(self) -> str:
        def check() -> None:
            require_secret(
                self.target.token_env, what=f"GitLab trigger token of {self.target.name}"
            )
            client = HttpClient("gitlab", self.base_url, headers=self._api_headers())
            client.request("GET", self.project_path, expected=(200,))

        return ping_error(check)


def pipeline_status(pipeline: dict, state: dict) -> RunStatus:
    status = pipeline.get("status") or ""
    return RunStatus(
        STATES.get(status, "running"),
        state,
        external_id=str(pipeline.get("id", "")),
        url=pipeline.get("web_url", ""),
        detail=status,
    )
