"""Helpers for the report-text, credential and log-line tests of tests/trust/.

- :func:`report`: a small report in each of the seven formats, with findings whose
  identifiers the test chooses (the shapes follow tests/fixtures and FORMATS.md);
- :func:`run_worker`: a real Celery worker process (the Procfile's command) that also
  loads this module, so it runs :func:`log_outside_text`, a task that logs what a task
  meets outside: a URL holding a secret, an outside API's error text, an exception
  carrying a token.

Kept free of pytest and Django imports: the worker process imports it.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from celery import shared_task

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ("aqua", "trivy", "trivy-k8s", "trivy-operator", "harbor", "grype", "generic")
IMAGE = "docker.io/library/alpine:3.19"

CLEAN = {
    "id": "CVE-2024-0001",
    "package": "openssl",
    "version": "3.0.1-r0",
    "fixed": "3.0.2-r0",
    "type": "apk",
    "location": "lib/apk/db/installed",
}
"""One finding whose identifiers are sound."""

FIELDS = {
    "id": "vulnerability id",
    "package": "package",
    "version": "installed version",
    "fixed": "fixed version",
    "type": "package type",
    "location": "location",
}
"""A finding spec's keys, and how a refusal names each."""

NO_SLOT = {"harbor": {"type", "location"}}
"""Fields a format does not carry as text: Harbor reports name no path, and their package
type comes only from a purl."""


def _trivy_results(findings: list[dict]) -> list[dict]:
    return [
        {
            "Target": "alpine:3.19 (alpine 3.19.1)",
            "Class": "os-pkgs",
            "Type": f["type"],
            "Vulnerabilities": [
                {
                    "VulnerabilityID": f["id"],
                    "PkgName": f["package"],
                    "InstalledVersion": f["version"],
                    "FixedVersion": f["fixed"],
                    "PkgPath": f["location"],
                    "Severity": "HIGH",
                    "Title": "a title",
                }
            ],
        }
        for f in findings
    ]


def _aqua(findings: list[dict]) -> dict:
    return {
        "image": "alpine:3.19",
        "registry": "Docker Hub",
        "resources": [
            {
                "resource": {
                    "name": f["package"],
                    "version": f["version"],
                    "format": f["type"],
                    "path": f["location"],
                },
                "vulnerabilities": [
                    {"name": f["id"], "fix_version": f["fixed"], "aqua_severity": "high"}
                ],
            }
            for f in findings
        ],
    }


def _trivy(findings: list[dict]) -> dict:
    return {
        "SchemaVersion": 2,
        "ArtifactName": "alpine:3.19",
        "ArtifactType": "container_image",
        "Metadata": {"RepoTags": ["alpine:3.19"]},
        "Results": _trivy_results(findings),
    }


def _trivy_k8s(findings: list[dict]) -> dict:
    return {
        "ClusterName": "prod",
        "Resources": [
            {
                "Namespace": "shop",
                "Kind": "Deployment",
                "Name": "web",
                "Metadata": [{"RepoTags": ["alpine:3.19"]}],
                "Results": _trivy_results(findings),
            }
        ],
    }


def _trivy_operator(findings: list[dict]) -> dict:
    return {
        "apiVersion": "aquasecurity.github.io/v1alpha1",
        "kind": "VulnerabilityReport",
        "metadata": {
            "name": "replicaset-web-alpine",
            "namespace": "shop",
            "labels": {
                "trivy-operator.resource.kind": "ReplicaSet",
                "trivy-operator.resource.name": "web",
                "trivy-operator.resource.namespace": "shop",
                "trivy-operator.container.name": "alpine",
            },
        },
        "report": {
            "artifact": {"repository": "library/alpine", "tag": "3.19"},
            "registry": {"server": "index.docker.io"},
            "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "0.50.1"},
            "vulnerabilities": [
                {
                    "vulnerabilityID": f["id"],
                    "resource": f["package"],
                    "installedVersion": f["version"],
                    "fixedVersion": f["fixed"],
                    "packageType": f["type"],
                    "packagePath": f["location"],
                    "severity": "HIGH",
                }
                for f in findings
            ],
        },
    }


def _harbor(findings: list[dict]) -> dict:
    return {
        "generated_at": "2024-03-01T10:00:00Z",
        "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "v0.50.1"},
        "severity": "High",
        "vulnerabilities": [
            {
                "id": f["id"],
                "package": f["package"],
                "version": f["version"],
                "fix_version": f["fixed"],
                "severity": "High",
            }
            for f in findings
        ],
    }


def _grype(findings: list[dict]) -> dict:
    return {
        "matches": [
            {
                "vulnerability": {
                    "id": f["id"],
                    "severity": "High",
                    "fix": {"versions": [f["fixed"]], "state": "fixed"},
                },
                "artifact": {
                    "name": f["package"],
                    "version": f["version"],
                    "type": f["type"],
                    "locations": [{"path": f["location"]}],
                },
            }
            for f in findings
        ],
        "source": {"type": "image", "target": {"userInput": "alpine:3.19"}},
        "descriptor": {"name": "grype", "version": "0.74.0"},
    }


def _generic(findings: list[dict]) -> dict:
    return {
        "imageName": "alpine:3.19",
        "scanner": "Trivy 0.50.1",
        "findings": [
            {
                "id": f["id"],
                "package": f["package"],
                "version": f["version"],
                "fixedVersion": f["fixed"],
                "packageType": f["type"],
                "locations": [f["location"]],
                "severity": "high",
            }
            for f in findings
        ],
    }


BUILDERS = {
    "aqua": _aqua,
    "trivy": _trivy,
    "trivy-k8s": _trivy_k8s,
    "trivy-operator": _trivy_operator,
    "harbor": _harbor,
    "grype": _grype,
    "generic": _generic,
}


def finding(**changes: str) -> dict:
    """A finding spec: CLEAN with ``changes``, under another id unless one is given."""
    return {**CLEAN, "id": "CVE-2024-0002", **changes}


def report(fmt: str, *findings: dict) -> dict:
    """A report in format ``fmt`` listing ``findings`` (specs as :data:`CLEAN`)."""
    return BUILDERS[fmt](list(findings))


def body(fmt: str, *findings: dict) -> bytes:
    return json.dumps(report(fmt, *findings)).encode()


# --- a task for a real worker to run (the worker loads this module with --include)

task_log = logging.getLogger("findings.tasks")


class OutsideError(RuntimeError):
    """What an integration raises when an outside API answers with an error."""


@shared_task(name="trust.log_outside_text")
def log_outside_text(url: str, outside: str, token: str) -> None:
    """Log a URL and an outside API's words as a task does, then fail with the token in
    the exception (Celery logs the traceback)."""
    task_log.error("GET %s failed", url)
    task_log.warning("provider answered: %s", outside)
    raise OutsideError(f"401 from https://api.github.com/user?access_token={token}: {outside}")


def worker_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a worker on an embedded broker in ``tmp_path`` (no database)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_SECRET", "CELERY"))}
    env.pop("DATABASE_URL", None)
    env.update(DATA_DIR=str(tmp_path), **extra)
    return env


def broker_url(tmp_path: Path) -> str:
    return f"sqlite-embedded+sqlite:///{tmp_path / 'celery-broker.sqlite3'}?timeout=30"


def run_worker(
    tmp_path: Path, env: dict[str, str], args: tuple, until: str, seconds: float = 90.0
) -> list[str]:
    """Start the Procfile's worker (solo pool) with this module included, send it
    :func:`log_outside_text` with ``args``, and return its output lines up to the first
    that contains ``until`` (or all it wrote in ``seconds``)."""
    from celery import Celery

    from remediator.broker import register

    command = "celery -A remediator.celery worker -P solo --loglevel INFO --queues ingest"
    quiet = "--without-heartbeat --without-mingle --without-gossip"
    include = "--include tests.trust._text_support"
    worker = subprocess.Popen(
        [sys.executable, "-m", *f"{command} {quiet} {include}".split()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in worker.stdout:  # type: ignore[union-attr]
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    sent = False
    try:
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                break
            seen.append(line.rstrip("\n"))
            if not sent and "ready." in line:
                register()
                client = Celery("trust-client")
                # an explicit URL: Celery would prefer a CELERY_BROKER_URL in this environment
                with client.connection_for_write(broker_url(tmp_path)) as connection:
                    client.send_task(
                        "trust.log_outside_text",
                        args=list(args),
                        queue="ingest",
                        connection=connection,
                    )
                sent = True
            elif sent and until in line:
                break
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=30)
    while True:  # whatever it wrote while stopping
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line.rstrip("\n"))
    return seen
