"""GitLab CI: run a pipeline with a trigger token, follow it with an API token.

``POST {base}/api/v4/projects/{id}/trigger/pipeline`` (form fields ``token``,
``ref``, ``variables[KEY]``) answers with the pipeline (``id``, ``status``,
``web_url``); ``GET {base}/api/v4/projects/{id}/pipelines/{pipeline_id}`` with
``PRIVATE-TOKEN`` (``read_api`` scope) follows it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from remediator.core.errors import ProviderError
from remediator.integrations.ci import CITarget, RunStatus, TriggerRequest
from remediator.integrations.http import HttpClient, ping_error, require_secret

GITLAB_URL = "https://gitlab.com"

FIND_RUN_PIPELINES = 20
"""Pipelines looked at, newest first, when looking for an earlier trigger."""
CORRELATION_VARIABLE = "REMEDIATOR_CORRELATION_ID"

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


def project_api(target: CITarget) -> tuple[str, str]:
    """The API base URL (``…/api/v4``) and project path (``/projects/<id>``) of a target."""
    project = target.project.strip().strip("/")
    if not project:
        raise ProviderError(
            f"build target {target.name}: project (id or path) is required", permanent=True
        )
    base = (target.url or GITLAB_URL).rstrip("/").removesuffix("/api/v4")
    return f"{base}/api/v4", f"/projects/{quote(project, safe='')}"


class GitLabCI:
    label = "GitLab CI"
    slug = "gitlab"

    def __init__(self, target: CITarget) -> None:
        self.target = target
        self.base_url, self.project_path = project_api(target)

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

    def find_run(self, request: TriggerRequest, since: datetime) -> RunStatus | None:
        """The newest trigger pipeline of the ref created after ``since`` whose variables
        carry the correlation id (needs the API token; without one, None). A pipeline of
        an earlier dispatch of the same action (before a retry) is older than ``since``."""
        if not self.target.api_token_env:
            return None
        client = HttpClient("gitlab", self.base_url, headers=self._api_headers())
        params = {
            "source": "trigger",
            "ref": self.target.ref,
            "updated_after": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "order_by": "id",
            "sort": "desc",
            "per_page": str(FIND_RUN_PIPELINES),
        }
        path = f"{self.project_path}/pipelines"
        for pipeline in client.request("GET", path, params=params, expected=(200,)).json():
            if _created_before(pipeline, since):
                continue
            variables = client.request(
                "GET", f"{path}/{pipeline['id']}/variables", expected=(200,)
            ).json()
            if any(
                v.get("key") == CORRELATION_VARIABLE and v.get("value") == request.correlation_id
                for v in variables
            ):
                return pipeline_status(pipeline, {"pipeline_id": pipeline["id"]})
        return None

    def ping(self) -> str:
        def check() -> None:
            require_secret(
                self.target.token_env, what=f"GitLab trigger token of {self.target.name}"
            )
            client = HttpClient("gitlab", self.base_url, headers=self._api_headers())
            client.request("GET", self.project_path, expected=(200,))

        return ping_error(check)


def _created_before(pipeline: dict, since: datetime) -> bool:
    try:
        created = datetime.fromisoformat(str(pipeline.get("created_at")).replace("Z", "+00:00"))
    except ValueError:
        return False  # no time given: let the variables decide
    return created.tzinfo is not None and created < since


def pipeline_status(pipeline: dict, state: dict) -> RunStatus:
    status = pipeline.get("status") or ""
    return RunStatus(
        STATES.get(status, "running"),
        state,
        external_id=str(pipeline.get("id", "")),
        url=pipeline.get("web_url", ""),
        detail=status,
    )
