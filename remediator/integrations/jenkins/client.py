"""Jenkins: queue a parameterized build, follow the queue item, then the build.

``POST {base}/job/a/job/b/buildWithParameters`` with basic auth (user + API
token) and, when CSRF protection is on, the crumb from
``GET /crumbIssuer/api/json`` sent as its ``crumbRequestField`` header in the same
session (cookie). 201 + ``Location`` is the new queue item; 303 + ``Location`` is
an identical request already waiting in the queue (we follow that item); 409
is a conflict, permanent. The queue item (``GET <queue>/api/json``) gains
``executable.number``/``url`` when the build starts, or ``cancelled``.

Jenkins forgets a queue item about five minutes after it leaves the queue: the
engine must poll at least once a minute between trigger and build start. A
queue item that answers 404 before we saw its build is reported "failed".

An earlier trigger whose answer was lost (the worker died) is found again by its
``REMEDIATOR_CORRELATION_ID`` parameter: first among the items waiting in the queue
(``GET /queue/api/json``), then among the job's recent builds
(``GET <job>/api/json?tree=builds[…]``) started since the dispatch began.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from remediator.core.errors import ProviderError
from remediator.integrations.ci import CITarget, RunStatus, TriggerRequest
from remediator.integrations.http import HttpClient, ping_error, require_secret

RESULTS = {
    "SUCCESS": "succeeded",
    "UNSTABLE": "succeeded",
    "FAILURE": "failed",
    "ABORTED": "cancelled",
    "NOT_BUILT": "cancelled",
}
"""UNSTABLE (tests flagged, artifacts built) counts as built; the next scan decides."""


QUEUE_QUERY = "/queue/api/json?tree=items[id,url,task[url],actions[parameters[name,value]]]"
BUILDS_TREE = (
    "tree=builds[number,url,timestamp,building,result,actions[parameters[name,value]]]{0,50}"
)


def _correlation(entry: dict) -> str:
    """The REMEDIATOR_CORRELATION_ID parameter of a queue item or build ('' if none)."""
    for action in entry.get("actions") or []:
        for parameter in (action or {}).get("parameters") or []:
            if parameter.get("name") == "REMEDIATOR_CORRELATION_ID":
                return str(parameter.get("value", ""))
    return ""


def build_status(build: dict, state: dict) -> RunStatus:
    """One build (``GET <build>/api/json``) as a RunStatus."""
    link = state.get("build_link") or state["build_url"]
    number = str(state.get("build_number") or build.get("number", ""))
    if build.get("building") or not build.get("result"):
        return RunStatus("running", state, external_id=number, url=link, detail="building")
    result = build["result"]
    return RunStatus(
        RESULTS.get(result, "failed"), state, external_id=number, url=link, detail=result
    )


class Jenkins:
    label = "Jenkins"
    slug = "jenkins"

    def __init__(self, target: CITarget) -> None:
        self.target = target
        if not target.url:
            raise ProviderError(f"build target {target.name}: url is required", permanent=True)
        if not target.username:
            raise ProviderError(f"build target {target.name}: username is required", permanent=True)
        segments = [s for s in target.project.strip().split("/") if s]
        if not segments:
            raise ProviderError(
                f"build target {target.name}: project (job path) is required", permanent=True
            )
        self.base_url = target.url.rstrip("/")
        self.job_path = "".join(f"/job/{quote(s, safe='')}" for s in segments)

    def _client(self) -> HttpClient:
        token = require_secret(
            self.target.token_env, what=f"Jenkins API token of {self.target.name}"
        )
        return HttpClient("jenkins", self.base_url, auth=(self.target.username, token))

    def _on_base(self, url: str) -> str:
        """``url`` (absolute or not) moved onto our base URL's scheme and host, so
        credentials only ever go where the build target points."""
        base = urlsplit(self.base_url)
        path = urlsplit(urljoin(self.base_url + "/", url))
        return urlunsplit((base.scheme, base.netloc, path.path, path.query, ""))

    def _crumb(self, client: HttpClient) -> dict[str, str]:
        try:
            crumb = client.request("GET", "/crumbIssuer/api/json", expected=(200,)).json()
        except ProviderError as exc:
            if exc.status == 404:  # CSRF protection is off
                return {}
            raise
        return {crumb["crumbRequestField"]: crumb["crumb"]}

    def trigger(self, request: TriggerRequest) -> RunStatus:
        client = self._client()
        path = f"{self.job_path}/buildWithParameters"
        params = request.variables()
        try:
            response = client.request(
                "POST", path, data=params, headers=self._crumb(client), expected=(201, 303, 302)
            )
        except ProviderError as exc:
            if exc.status != 403 or "crumb" not in str(exc).lower():
                raise
            # The crumb expired or lost its session: fetch a fresh one, once.
            response = client.request(
                "POST", path, data=params, headers=self._crumb(client), expected=(201, 303, 302)
            )
        location = response.headers.get("Location", "")
        if response.status_code == 302 or "/queue/item/" not in location:
            raise ProviderError(
                f"jenkins: {self.job_path} did not queue a build (answered "
                f"{response.status_code}, Location {location or 'missing'})",
                permanent=True,
                status=response.status_code,
            )
        merged = response.status_code == 303
        state = {"queue_url": self._on_base(location), "merged": merged}
        detail = "merged into a build already queued" if merged else "queued"
        return RunStatus("queued", state, url=location, detail=detail)

    def status(self, provider_state: dict) -> RunStatus:
        client = self._client()
        state = dict(provider_state)
        if not state.get("build_url"):
            try:
                item = client.request("GET", self._api(state["queue_url"]), expected=(200,)).json()
            except ProviderError as exc:
                if exc.status != 404:
                    raise
                return RunStatus(
                    "failed", state, detail="queue item expired before the build started"
                )
            if item.get("cancelled"):
                return RunStatus("cancelled", state, detail="queue item cancelled")
            executable = item.get("executable")
            if not executable:
                return RunStatus("queued", state, detail=item.get("why") or "waiting in queue")
            state["build_url"] = self._on_base(executable["url"])
            state["build_number"] = executable["number"]
            state["build_link"] = executable["url"]
        build = client.request("GET", self._api(state["build_url"]), expected=(200,)).json()
        return build_status(build, state)

    @staticmethod
    def _api(url: str) -> str:
        return url.rstrip("/") + "/api/json"

    def find_run(self, request: TriggerRequest, since: datetime) -> RunStatus | None:
        """The queue item or build whose REMEDIATOR_CORRELATION_ID parameter is
        ``request``'s, waiting in the queue or started since ``since``; else None."""
        client = self._client()
        wanted = request.correlation_id
        queue = client.request("GET", QUEUE_QUERY, expected=(200,)).json()
        for item in queue.get("items") or []:
            task_url = urlsplit(str((item.get("task") or {}).get("url", ""))).path
            if task_url.rstrip("/").endswith(self.job_path) and _correlation(item) == wanted:
                queue_url = self._on_base(str(item.get("url") or f"queue/item/{item.get('id')}/"))
                state = {"queue_url": queue_url, "merged": False}
                return RunStatus("queued", state, url=queue_url, detail="found in the queue")
        job = client.request("GET", f"{self.job_path}/api/json?{BUILDS_TREE}", expected=(200,))
        started_after = since.timestamp() * 1000
        for build in job.json().get("builds") or []:
            if (build.get("timestamp") or 0) >= started_after and _correlation(build) == wanted:
                state = {
                    "queue_url": "",
                    "merged": False,
                    "build_url": self._on_base(str(build.get("url", ""))),
                    "build_number": build.get("number"),
                    "build_link": build.get("url", ""),
                }
                return build_status(build, state)
        return None

    def ping(self) -> str:
        def check() -> None:
            job = (
                self._client()
                .request("GET", f"{self.job_path}/api/json?tree=buildable", expected=(200,))
                .json()
            )
            if job.get("buildable") is False:
                raise ProviderError(f"jenkins: {self.job_path} is disabled", permanent=True)

        return ping_error(check)
