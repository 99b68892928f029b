"""A fake GitLab for the fault suite: counts pipeline triggers per correlation id.

It answers the calls of GitLab's published API that Remediator makes or may make to
check a correlation id before triggering again:

  POST /api/v4/projects/<id>/trigger/pipeline          form: token, ref, variables[KEY]
       -> 201 pipeline; the pipeline exists (and is counted) as soon as the request
          arrives, even when its answer is held back (see ``hold``) or never delivered
  GET  /api/v4/projects/<id>/pipelines                  PRIVATE-TOKEN; ref, source,
       updated_after, order_by=id, sort -> list of pipelines, newest first
  GET  /api/v4/projects/<id>/pipelines/<pid>            -> "running" once, then "success"
  GET  /api/v4/projects/<id>/pipelines/<pid>/variables  -> [{"key", "value", "variable_type"}]
  GET  /api/v4/projects/<id>                            -> the project (for ping)

``hold(seconds)``: the answer to the *first* trigger of each correlation id waits that
long (or until ``release()``), so a test can kill the worker while it waits.
Standard library only; 127.0.0.1 only.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

TRIGGER = re.compile(r"^/api/v4/projects/([^/]+)/trigger/pipeline$")
PIPELINES = re.compile(r"^/api/v4/projects/([^/]+)/pipelines$")
PIPELINE = re.compile(r"^/api/v4/projects/([^/]+)/pipelines/(\d+)$")
VARIABLES = re.compile(r"^/api/v4/projects/([^/]+)/pipelines/(\d+)/variables$")
PROJECT = re.compile(r"^/api/v4/projects/([^/]+)$")
CORRELATION = "REMEDIATOR_CORRELATION_ID"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FakeGitLab:
    def __init__(self, *, trigger_token: str, api_token: str) -> None:
        self.trigger_token, self.api_token = trigger_token, api_token
        self.lock = threading.Lock()
        self.ids = itertools.count(5001)
        self.pipelines: dict[int, dict] = {}
        self.looks: dict[int, int] = {}
        self.requests: list[dict] = []
        self.hold_seconds = 0.0
        self.held: set[str] = set()
        self.released = threading.Event()
        self.server: ThreadingHTTPServer | None = None

    # --- what the tests read
    def triggers(self, correlation_id: str) -> list[dict]:
        with self.lock:
            return [p for p in self.pipelines.values() if p["correlation_id"] == correlation_id]

    def hold(self, seconds: float) -> None:
        self.hold_seconds = seconds
        self.released.clear()

    def release(self) -> None:
        self.hold_seconds = 0.0
        self.released.set()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> FakeGitLab:
        handler = type("BoundHandler", (Handler,), {"fake": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # --- the API
    def pipeline_json(self, pipeline: dict, base: str) -> dict:
        keys = ("id", "iid", "project_id", "sha", "ref", "status", "source", "created_at",
                "updated_at")  # fmt: skip
        web_url = f"{base}/p/-/pipelines/{pipeline['id']}"
        return {k: pipeline[k] for k in keys} | {"web_url": web_url}

    def trigger(self, project: str, form: dict, base: str) -> tuple[int, object, bool]:
        if form.get("token") != self.trigger_token:
            return 401, {"message": "401 Unauthorized"}, False
        variables = {
            key[len("variables[") : -1]: value
            for key, value in form.items()
            if key.startswith("variables[") and key.endswith("]")
        }
        correlation_id = variables.get(CORRELATION, "")
        with self.lock:
            pid = next(self.ids)
            pipeline = {
                "id": pid,
                "iid": pid - 5000,
                "project_id": int(project) if project.isdigit() else 1,
                "sha": "0" * 40,
                "ref": form.get("ref", ""),
                "status": "created",
                "source": "trigger",
                "created_at": _now(),
                "updated_at": _now(),
                "variables": variables,
                "correlation_id": correlation_id,
            }
            self.pipelines[pid] = pipeline
            first = correlation_id not in self.held
            self.held.add(correlation_id)
        return 201, self.pipeline_json(pipeline, base), first and self.hold_seconds > 0

    def route(self, method: str, path: str, query: dict, form: dict, headers) -> tuple:
        base = f"http://{headers.get('Host', '127.0.0.1')}"
        if method == "POST" and (m := TRIGGER.match(path)):
            return self.trigger(m.group(1), form, base)
        if method != "GET":
            return 404, {"message": "404 Not Found"}, False
        if headers.get("PRIVATE-TOKEN") != self.api_token:
            return 401, {"message": "401 Unauthorized"}, False
        if m := PIPELINES.match(path):
            with self.lock:
                found = sorted(self.pipelines.values(), key=lambda p: p["id"], reverse=True)
            for key in ("ref", "source", "status"):
                if query.get(key):
                    found = [p for p in found if p[key] == query[key]]
            if query.get("updated_after"):
                found = [p for p in found if p["updated_at"] > query["updated_after"]]
            if query.get("sort") == "asc":
                found.reverse()
            return 200, [self.pipeline_json(p, base) for p in found[:100]], False
        if m := VARIABLES.match(path):
            pipeline = self.pipelines.get(int(m.group(2)))
            if pipeline is None:
                return 404, {"message": "404 Not found"}, False
            return (
                200,
                [
                    {"key": k, "value": v, "variable_type": "env_var"}
                    for k, v in pipeline["variables"].items()
                ],
                False,
            )
        if m := PIPELINE.match(path):
            pid = int(m.group(2))
            with self.lock:
                pipeline = self.pipelines.get(pid)
                if pipeline is None:
                    return 404, {"message": "404 Not found"}, False
                self.looks[pid] = self.looks.get(pid, 0) + 1
                pipeline["status"] = "running" if self.looks[pid] == 1 else "success"
                pipeline["updated_at"] = _now()
            return 200, self.pipeline_json(pipeline, base), False
        if m := PROJECT.match(path):
            return 200, {"id": 1, "path_with_namespace": m.group(1)}, False
        return 404, {"message": "404 Not Found"}, False


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-gitlab/1"
    protocol_version = "HTTP/1.1"
    fake: FakeGitLab

    def log_message(self, format: str, *args) -> None:
        pass

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        form = {}
        if "x-www-form-urlencoded" in self.headers.get("Content-Type", ""):
            form = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        query = dict(parse_qsl(parts.query))
        status, body, hold = self.fake.route(self.command, parts.path, query, form, self.headers)
        with self.fake.lock:
            self.fake.requests.append(
                {"method": self.command, "path": parts.path, "status": status, "held": hold}
            )
        if hold:
            self.fake.released.wait(self.fake.hold_seconds)
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the worker was killed while we held the answer
            self.close_connection = True

    do_GET = do_POST = _handle
