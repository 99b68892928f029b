"""A stand-in for GitLab and Aqua so you can watch the loop close on your laptop.

One small HTTP server on 127.0.0.1 that answers the few calls Remediator makes:

GitLab (point a ``provider: gitlab`` build target's ``url`` here)
  POST /api/v4/projects/<id>/trigger/pipeline   form: token, ref, variables[KEY]
       -> 201 {"id", "status": "created", "web_url"}  (401 on a wrong trigger token)
  GET  /api/v4/projects/<id>/pipelines/<pid>    header PRIVATE-TOKEN
       -> "running" on the first look, "success" from then on (401 on a wrong token)
Aqua (set AQUA_URL here)
  POST /api/v1/login                            -> {"token": "..."}
  POST /api/v1/images/disallow | allow | rescan -> 204

Every request is printed (method, path, form or JSON body; secrets masked) and
appended as one JSON line to --log, so you can see exactly what Remediator sent.
Run it:

    python3 examples/fake_ci.py --port 8108 --log var/fake_ci.jsonl \\
        --trigger-token glptt-story --api-token glpat-story

Standard library only; stop it with Ctrl-C.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

TRIGGER = re.compile(r"^/api/v4/projects/([^/]+)/trigger/pipeline$")
PIPELINE = re.compile(r"^/api/v4/projects/([^/]+)/pipelines/(\d+)$")
AQUA_IMAGES = re.compile(r"^/api/v1/images/(disallow|allow|rescan)$")
SECRET_FIELDS = {"token", "password"}


class FakeCI:
    """The state behind the handler: pipelines seen, the tokens to expect, the log file."""

    def __init__(self, *, trigger_token: str, api_token: str, log_path: str) -> None:
        self.trigger_token, self.api_token, self.log_path = trigger_token, api_token, log_path
        self.ids = itertools.count(1001)
        self.looks: dict[int, int] = {}
        self.lock = threading.Lock()

    def record(self, entry: dict) -> None:
        line = json.dumps(entry, sort_keys=True)
        with self.lock:
            print(line, flush=True)
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as log:
                    log.write(line + "\n")


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-ci/1"
    fake: FakeCI  # set on the subclass made by serve()

    def log_message(self, format: str, *args) -> None:  # the JSON line says it all
        pass

    def _answer(self, status: int, body: object = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _read(self) -> tuple[dict, object]:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        kind = self.headers.get("Content-Type", "")
        if "x-www-form-urlencoded" in kind:
            return dict(parse_qsl(raw.decode(), keep_blank_values=True)), None
        try:
            return {}, json.loads(raw) if raw else None
        except ValueError:
            return {}, raw.decode(errors="replace")

    def _handle(self) -> None:
        path = urlsplit(self.path).path
        form, body = self._read()
        status, answer = self._route(path, form)
        shown = {k: ("***" if k in SECRET_FIELDS else v) for k, v in form.items()}
        if isinstance(body, dict):
            body = {k: ("***" if k in SECRET_FIELDS else v) for k, v in body.items()}
        entry = {"method": self.command, "path": path, "status": status}
        entry |= {"form": shown} if form else {}
        entry |= {"json": body} if body is not None else {}
        if self.command == "GET":
            entry["private_token_ok"] = self.headers.get("PRIVATE-TOKEN") == self.fake.api_token
        self.fake.record(entry)
        self._answer(status, answer)

    def _route(self, path: str, form: dict) -> tuple[int, object]:
        fake, base = self.fake, f"http://{self.headers.get('Host', '127.0.0.1')}"
        if self.command == "POST" and (m := TRIGGER.match(path)):
            if form.get("token") != fake.trigger_token:
                return 401, {"message": "401 Unauthorized"}
            pid = next(fake.ids)
            return 201, {"id": pid, "status": "created", "web_url": f"{base}/p/-/pipelines/{pid}"}
        if self.command == "GET" and (m := PIPELINE.match(path)):
            if self.headers.get("PRIVATE-TOKEN") != fake.api_token:
                return 401, {"message": "401 Unauthorized"}
            pid = int(m.group(2))
            with fake.lock:
                fake.looks[pid] = fake.looks.get(pid, 0) + 1
                status = "running" if fake.looks[pid] == 1 else "success"
            return 200, {"id": pid, "status": status, "web_url": f"{base}/p/-/pipelines/{pid}"}
        if self.command == "POST" and path == "/api/v1/login":
            return 200, {"token": "fake-aqua-token"}
        if self.command == "POST" and AQUA_IMAGES.match(path):
            return 204, None
        return 404, {"message": "404 Not Found"}

    do_GET = do_POST = _handle


def serve(*, port: int, trigger_token: str, api_token: str, log_path: str) -> ThreadingHTTPServer:
    """Start the fake on 127.0.0.1:port in a daemon thread; returns the server."""
    fake = FakeCI(trigger_token=trigger_token, api_token=api_token, log_path=log_path)
    handler = type("BoundHandler", (Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8108)
    parser.add_argument("--log", default="", help="append one JSON line per request here")
    parser.add_argument("--trigger-token", default="glptt-story")
    parser.add_argument("--api-token", default="glpat-story")
    args = parser.parse_args()
    server = serve(
        port=args.port,
        trigger_token=args.trigger_token,
        api_token=args.api_token,
        log_path=args.log,
    )
    print(f"fake GitLab + Aqua on http://127.0.0.1:{server.server_port}/", file=sys.stderr)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
