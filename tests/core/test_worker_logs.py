"""Celery workers and beat log as the web processes do: Django's LOGGING, so that
LOG_FORMAT=json holds for them and secrets are redacted from what tasks log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "W0rker-S3cret_QZ"
WORKER = [sys.executable, "-m", "celery", "-A", "remediator.celery", "worker"]

# What a worker does at start (app.log.setup sends the setup_logging signal), then what a
# task might log when an outside call fails with a secret in its URL.
TASK_LOGS = f"""
from remediator.celery import app
from celery.utils.log import get_task_logger
app.log.setup(loglevel="INFO")
log = get_task_logger("findings.tasks")
log.error("POST http://127.0.0.1/api/v1/webhooks/trivy/{SECRET}/ failed")
log.error("GET https://ci.example/api?private_token={SECRET} answered 500")
log.error("the secret itself: {SECRET}")
"""


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_SECRET", "CELERY"))}
    env.update(LOG_FORMAT="json", WEBHOOK_SECRET=SECRET, DATA_DIR=str(tmp_path))
    env.pop("DATABASE_URL", None)
    return env


def test_task_logs_are_json_and_hold_no_secret(tmp_path):
    run = subprocess.run(
        [sys.executable, "-c", TASK_LOGS],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    records = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    messages = [r["message"] for r in records if r["logger"] == "findings.tasks"]
    assert len(messages) == 3
    assert SECRET not in run.stderr + run.stdout
    assert messages[0].endswith("/api/v1/webhooks/trivy/<secret>/ failed")
    assert "private_token=<secret>" in messages[1]


def test_a_real_worker_logs_through_django_logging(tmp_path):
    """The Procfile's worker, started and stopped: its own log lines are JSON objects."""
    worker = subprocess.Popen(
        [*WORKER, "-P", "solo", "--loglevel", "INFO", "--without-heartbeat", "--without-mingle"],
        cwd=ROOT,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        for line in worker.stdout:
            lines.append(line)
            if "ready." in line:
                break
    finally:
        worker.terminate()
        worker.communicate(timeout=60)
    logged = [line for line in lines if line.startswith("{")]
    ready = [json.loads(line) for line in logged if "ready." in line]
    assert ready and ready[0]["logger"] == "celery.apps.worker", "".join(lines)
    assert not [line for line in lines if line.startswith("[20")], "Celery's own format"
