"""GitHub Actions: trigger a workflow run and follow it.

``workflow_dispatch`` (default): ``POST /repos/{owner}/{repo}/actions/workflows/
{workflow}/dispatches`` with ``return_run_details: true`` answers 200 with
``workflow_run_id``/``run_url``/``html_url``. Servers that predate it (older
GitHub Enterprise Server) answer 204, or reject the parameter with 400/422, and
we send again without it; the run is then found by listing the workflow's
``workflow_dispatch`` runs created since the dispatch and picking the one whose
name (``run-name``) carries the correlation id.

``repository_dispatch`` (``options["dispatch"] = "repository_dispatch"``):
``POST /repos/{owner}/{repo}/dispatches`` answers 204 with nothing to follow.
The run is looked up the same way (``run-name`` must carry
``github.event.client_payload.correlation_id``); until it is found the state
stays "running", never "succeeded": the engine's own deadline applies.

Rate limits (403/429 with ``retry-after`` or ``x-ratelimit-remaining: 0``) are raised
at once as transient with the wait (see ``ratelimit.py``): the worker is released and
the task retries at the reset; same-host redirects are followed (``redirects.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from remediator.integrations.ci import CITarget, RunStatus, TriggerRequest
from remediator.integrations.github.ratelimit import rate_limit_wait
from remediator.integrations.http import (
    HttpClient,
    ProviderError,
    ping_error,
    require_secret,
    truncate_list,
)

API_URL = "https://api.github.com"
LIST_MAX_CHARS = 1000
"""Per input: GitHub caps the whole dispatch payload, so long lists are cut and
``truncated`` says so; the full list is at ``details_url``."""
REDIRECT_HOPS = 3
"""A renamed or transferred repository answers 301 (GET) or 307 (POST), same host."""
MATCH_MINUTES = 10
"""How long a run that cannot be found yet stays "queued" before we give up."""

QUEUED = {"queued", "requested", "waiting", "pending"}
CONCLUSIONS = {
    "success": "succeeded",
    "neutral": "succeeded",
    "cancelled": "cancelled",
    "skipped": "cancelled",
    "failure": "failed",
    "timed_out": "failed",
    "action_required": "failed",
    "stale": "failed",
    "startup_failure": "failed",
}


def dispatch_inputs(request: TriggerRequest) -> dict[str, str]:
    """The ≤ 10 small string inputs every Remediator rebuild workflow receives."""
    cves, cves_cut = truncate_list(request.vulnerability_ids, LIST_MAX_CHARS)
    packages, packages_cut = truncate_list(
        (f"{name}={version}" for name, version in request.packages), LIST_MAX_CHARS
    )
    return {
        "correlation_id": request.correlation_id,
        "image": request.image,
        "digest": request.digest,
        "cves": cves,
        "packages": packages,
        "details_url": request.details_url,
        "truncated": "true" if cves_cut or packages_cut else "false",
    }


def api_client(target: CITarget) -> HttpClient:
    """A REST client for ``target``'s GitHub (its token, rate limits, same-host redirects)."""
    token = require_secret(target.token_env, what=f"GitHub token of {target.name}")
    return HttpClient(
        "github",
        (target.url or API_URL).rstrip("/"),
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        },
        redirects=REDIRECT_HOPS,
        rate_limit=rate_limit_wait,
    )


def repo_path(target: CITarget) -> str:
    """``/repos/<owner>/<repo>`` of a target whose project is ``owner/repo``."""
    project = target.project.strip().strip("/")
    if project.count("/") != 1:
        raise ProviderError(
            f"build target {target.name}: project must be owner/repo, not {project!r}",
            permanent=True,
        )
    return f"/repos/{project}"


class GitHubActions:
    label = "GitHub Actions"
    slug = "github"

    def __init__(self, target: CITarget) -> None:
        self.target = target
        self.repo_path = repo_path(target)
        self.mode = (target.options or {}).get("dispatch", "workflow_dispatch")
        if self.mode not in ("workflow_dispatch", "repository_dispatch"):
            raise ProviderError(
                f"build target {target.name}: unknown dispatch {self.mode!r}", permanent=True
            )
        if self.mode == "workflow_dispatch" and not target.workflow:
            raise ProviderError(
                f"build target {target.name}: workflow (file name or id) is required",
                permanent=True,
            )
        self.workflow_path = f"{self.repo_path}/actions/workflows/{quote(target.workflow, safe='')}"
        self.event_type = (target.options or {}).get("event_type", "remediator-rebuild")
        self.base_url = (target.url or API_URL).rstrip("/")

    def _client(self) -> HttpClient:
        return api_client(self.target)

    def trigger(self, request: TriggerRequest) -> RunStatus:
        client = self._client()
        inputs = dispatch_inputs(request)
        since = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        state = {"mode": self.mode, "correlation_id": request.correlation_id, "since": since}
        if self.mode == "repository_dispatch":
            client.request(
                "POST",
                f"{self.repo_path}/dispatches",
                json={"event_type": self.event_type, "client_payload": inputs},
                expected=(204,),
            )
            return RunStatus(
                "running", state, detail="dispatched; waiting for a run named with the id"
            )
        body = {"ref": self.target.ref, "inputs": inputs, "return_run_details": True}
        try:
            response = client.request(
                "POST", f"{self.workflow_path}/dispatches", json=body, expected=(200, 204)
            )
        except ProviderError as exc:
            if exc.status not in (400, 422) or "return_run_details" not in str(exc):
                raise
            body.pop("return_run_details")
            response = client.request(
                "POST", f"{self.workflow_path}/dispatches", json=body, expected=(204,)
            )
        if response.status_code == 200:
            details = response.json()
            run_id = details["workflow_run_id"]
            state["run_id"] = run_id
            return RunStatus(
                "queued",
                state,
                external_id=str(run_id),
                url=details.get("html_url", ""),
                detail="dispatched",
            )
        return RunStatus("queued", state, detail="dispatched; looking for the run")

    def status(self, provider_state: dict) -> RunStatus:
        client = self._client()
        state = dict(provider_state)
        if state.get("run_id"):
            run = client.request("GET", f"{self.repo_path}/actions/runs/{state['run_id']}").json()
            return run_status(run, state)
        run = self._find_run(client, state)
        if run is not None:
            state["run_id"] = run["id"]
            return run_status(run, state)
        if state.get("mode") == "repository_dispatch":
            return RunStatus("running", state, detail="no run named with the correlation id (yet)")
        since = datetime.fromisoformat(state["since"].replace("Z", "+00:00"))
        if datetime.now(UTC) - since > timedelta(minutes=MATCH_MINUTES + 1):
            return RunStatus(
                "failed",
                state,
                detail=f"no workflow run named with the correlation id after {MATCH_MINUTES} "
                "minutes; set run-name to include inputs.correlation_id",
            )
        return RunStatus("queued", state, detail="looking for the run")

    def _find_run(self, client: HttpClient, state: dict) -> dict | None:
        if state.get("mode") == "repository_dispatch":
            path = f"{self.repo_path}/actions/runs"
            params = {"event": "repository_dispatch"}
        else:
            path = f"{self.workflow_path}/runs"
            params = {"event": "workflow_dispatch", "branch": self.target.ref}
        params |= {"created": f">={state['since']}", "per_page": "100"}
        runs = client.request("GET", path, params=params).json().get("workflow_runs", [])
        wanted = state["correlation_id"]
        for run in runs:
            if wanted in (run.get("display_title") or "") or wanted in (run.get("name") or ""):
                return run
        return None

    def find_run(self, request: TriggerRequest, since: datetime) -> RunStatus | None:
        """The workflow run named with the correlation id (``run-name``) created after
        ``since``, if there is one."""
        state = {
            "mode": self.mode,
            "correlation_id": request.correlation_id,
            "since": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        run = self._find_run(self._client(), state)
        return None if run is None else run_status(run, {**state, "run_id": run["id"]})

    def ping(self) -> str:
        path = self.repo_path if self.mode == "repository_dispatch" else self.workflow_path
        return ping_error(lambda: self._client().request("GET", path, expected=(200,)))


def run_status(run: dict, state: dict) -> RunStatus:
    """One workflow run (REST "Get a workflow run") as a RunStatus."""
    status = run.get("status") or ""
    conclusion = run.get("conclusion") or ""
    if status == "completed":
        mapped = CONCLUSIONS.get(conclusion, "failed")
    elif status in QUEUED:
        mapped = "queued"
    else:
        mapped = "running"
    return RunStatus(
        mapped,
        state,
        external_id=str(run.get("id", "")),
        url=run.get("html_url", ""),
        detail=f"{status}/{conclusion}" if conclusion else status,
    )
