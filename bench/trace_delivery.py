"""Follow one delivery from the webhook view to the finding rows: steps, files, returns.

    .venv/bin/python bench/trace_delivery.py [--findings 3] [--harbor] [--sequence]

Posts one small Trivy report (under WEBHOOK_CHECK_MAX_BYTES, so the post-time check
runs) through Django's test client, then runs the worker's task for it in this process
(``findings.delivery_process``, by name). ``--harbor`` posts a Harbor SCANNING_COMPLETED
event instead, whose report the worker fetches from a local server standing in for
Harbor's API (tests/fixtures/harbor/). ``sys.setprofile`` watches both; only frames
of the project's own files count (``remediator/`` and ``findings/``, without migrations
and without ``remediator/engine``: the policy run that a committed scan sets off is
another journey). The post is followed from the moment the webhook view's ``post``
starts, the worker from the moment its task starts.

- a step is a call from a project function into a project function of another file;
  calls one after the other from the same file into the same file are one step;
- the pure helpers (``findings/parsers/``, ``remediator/core/``) and the hand-off target
  (``findings/ingest.py``, which writes the rows) each count as one unit: a call into
  one is a step, what it calls inside is not followed;
- files are the distinct files (or units) those steps enter, with the view's own;
- a return is a step into a file that the path had already left;
- the same figures by package (``remediator/api``, ``remediator/intake``, ``findings``,
  ``findings/parsers``...), consecutive steps within one package counting once.

Prints the three figures and the sequence of files entered, then the same figures
with every call followed (``raw``: parser and ingest internals included). Asserts
nothing; the database is a fresh SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ["DJANGO_SETTINGS_MODULE"] = "remediator.settings"
SECRET = "trace-secret"
COUNTED = (str(ROOT / "remediator") + os.sep, str(ROOT / "findings") + os.sep)
NOT_COUNTED = (str(ROOT / "remediator" / "engine") + os.sep,)
UNITS = ("findings/parsers/", "remediator/core/", "findings/ingest.py")


def project_file(filename: str) -> str | None:
    """The file relative to the repository when it counts, else None."""
    if not filename.startswith(COUNTED) or filename.startswith(NOT_COUNTED):
        return None
    if f"{os.sep}migrations{os.sep}" in filename:
        return None
    return os.path.relpath(filename, ROOT)


def unit_of(name: str) -> str:
    return next((unit for unit in UNITS if name.startswith(unit)), name)


class Trace:
    """Calls between project files, recorded while a gate function is on the stack:
    ``raw`` every one, ``sequence`` as the module doc says."""

    def __init__(self, gate) -> None:
        self.gate = gate
        self.inside = 0
        self.raw: list[str] = []
        self.sequence: list[str] = []
        self.last_caller = ""

    def __call__(self, frame, event: str, arg) -> None:
        if event not in ("call", "return"):
            return
        if frame.f_code is self.gate:
            self.inside += 1 if event == "call" else -1
            if event == "call" and self.inside == 1 and not self.raw:
                self.raw.append(project_file(frame.f_code.co_filename) or "?")
                self.sequence.append(self.raw[0])
            return
        if event != "call" or not self.inside:
            return
        callee = project_file(frame.f_code.co_filename)
        if callee is None:
            return
        callers = []  # the project files below, innermost first
        back = frame.f_back
        while back is not None and back.f_code is not self.gate:
            if back.f_code.co_filename.startswith(NOT_COUNTED):
                return  # called by the policy side
            name = project_file(back.f_code.co_filename)
            if name is not None:
                callers.append(name)
            back = back.f_back
        caller = callers[0] if callers else self.raw[0]
        if caller == callee:
            return
        self.raw.append(callee)
        if any(name.startswith(UNITS) for name in callers):
            return  # inside a unit: not followed
        if self.sequence[-1] == unit_of(callee) and self.last_caller == caller:
            return  # one more call from the same file into the same one
        self.sequence.append(unit_of(callee))
        self.last_caller = caller

    def run(self, function, *args, **kwargs):
        sys.setprofile(self)
        try:
            return function(*args, **kwargs)
        finally:
            sys.setprofile(None)


def package_of(name: str) -> str:
    """``remediator/intake/store.py`` -> ``remediator/intake``; ``findings/x.py`` ->
    ``findings``; a unit (``findings/parsers/``) is its own package."""
    if name.endswith("/"):
        return name.rstrip("/")
    parts = name.split("/")[:-1]
    return "/".join(parts[:2]) if parts[0] == "remediator" else parts[0]


def packages(sequence: list[str]) -> list[str]:
    collapsed: list[str] = []
    for package in map(package_of, sequence):
        if not collapsed or collapsed[-1] != package:
            collapsed.append(package)
    return collapsed


def harbor_api(report: bytes) -> str:
    """A local server answering every GET with ``report``, as Harbor's API would; its URL."""

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(report)))
            self.end_headers()
            self.wfile.write(report)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def figures(sequence: list[str]) -> tuple[int, int, int]:
    """(steps, distinct files, returns to a file already left)."""
    returns = sum(1 for i, name in enumerate(sequence) if name in sequence[:i])
    return len(sequence) - 1, len(set(sequence)), returns


def trivy_report(size: int, *, image: str) -> bytes:
    """A Trivy report (SchemaVersion 2) of ``size`` findings in one image."""
    vulns = [
        {
            "VulnerabilityID": f"CVE-2026-{i:05d}",
            "PkgName": f"pkg{i}",
            "InstalledVersion": "1.0.0",
            "FixedVersion": "1.0.1",
            "Severity": ("CRITICAL", "HIGH", "MEDIUM", "LOW")[i % 4],
        }
        for i in range(size)
    ]
    repository = image.rsplit(":", 1)[0]
    metadata = {"RepoDigests": [f"{repository}@sha256:{'3' * 64}"], "RepoTags": [image]}
    result = {"Target": image, "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": vulns}
    report = {
        "SchemaVersion": 2,
        "ArtifactName": image,
        "ArtifactType": "container_image",
        "Metadata": metadata,
        "Results": [result],
    }
    return json.dumps(report).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=3, help="findings in the report")
    parser.add_argument("--harbor", action="store_true", help="a Harbor scan event instead")
    parser.add_argument("--sequence", action="store_true", help="print every step")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="trace-delivery-")
    os.environ["DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["WEBHOOK_SECRET"] = SECRET
    harbor = ROOT / "tests" / "fixtures" / "harbor"
    if args.harbor:
        report = (harbor / "dd_harbor_report_clair_5.json").read_bytes()
        os.environ["HARBOR_URL"] = harbor_api(report)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from remediator.api.webhooks import WebhookApi
    from remediator.celery import app

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    setup_test_environment()
    if args.harbor:
        source, body = "harbor", (harbor / "zulip_scanning_completed.json").read_bytes()
    else:
        source, body = "trivy", trivy_report(args.findings, image="registry.example.com/t/a:1")

    post = Trace(WebhookApi.post.__code__)
    response = post.run(
        Client().post,
        f"/api/v1/webhooks/{source}/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {SECRET}",
    )
    assert response.status_code == 202, response.content
    task = app.tasks["findings.delivery_process"]
    worker = Trace(getattr(task, "__wrapped__", task.run).__code__)
    worker.run(task.apply, args=[response.json()["delivery"]])

    from findings.models import Finding

    found = Finding.objects.count()
    sequence = post.sequence + worker.sequence
    steps, files, returns = figures(sequence)
    print(f"{source}: {len(body)} bytes; finding rows: {found}")
    print(f"steps {steps}, files {files}, returns to a file already left {returns}")
    print(f"  the view {figures(post.sequence)}, the worker {figures(worker.sequence)}")
    raw = figures(post.raw + worker.raw)
    print(f"  raw (every call followed): steps {raw[0]}, files {raw[1]}, returns {raw[2]}")
    by_package = figures(packages(sequence))
    print(
        f"  by package: steps {by_package[0]}, packages {by_package[1]}, "
        f"returns {by_package[2]}: {' > '.join(packages(sequence))}"
    )
    print("files:", ", ".join(sorted(set(sequence))))
    if args.sequence:
        for name in sequence:
            print("  ", name)


if __name__ == "__main__":
    main()
