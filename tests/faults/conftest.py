"""The fault suite's stack and its summary table.

These tests run only under ``make faults`` (REMEDIATOR_FAULTS=1, set by
tests/faults/run.sh); ``make test`` deselects them. One stack serves every scenario:
our own PostgreSQL cluster and Redis on free ports, the fake GitLab, and the
Procfile's web (gunicorn), worker and beat, configured through the environment as
in production. Logs go to var/faults/logs/, the table to var/faults/summary.md.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from .fake_gitlab import FakeGitLab
from .stack import REPO, App, Postgres, Redis, free_port, wait_for

HERE = Path(__file__).resolve().parent
OUT = REPO / "var" / "faults"
WEBHOOK_SECRET = "faults-" + secrets.token_hex(8)
TRIGGER_TOKEN = "glptt-" + secrets.token_hex(8)
API_TOKEN = "glpat-" + secrets.token_hex(8)
COLUMNS = ("scenario", "sent", "2xx", "stored", "processed", "lost", "duplicated", "seconds")
RESULTS: list[dict] = []

# Short delays so that redelivery happens within the test; all are settings the
# application reads from the environment (remediator/settings.py).
TUNING = {
    "DELIVERY_SWEEP_AFTER": "5",
    "DELIVERY_SWEEP_INTERVAL": "5",
    "DELIVERY_REQUEUE_AFTER": "30",
    "DELIVERY_RETRY_BACKOFF": "2",
    "DELIVERY_RETRY_BACKOFF_MAX": "10",
    "DELIVERY_MAX_RETRIES": "30",
    "ACTION_POLL_INTERVAL": "3",
    "ACTION_DISPATCH_BACKOFF": "2",
    "PROVIDER_READ_TIMEOUT": "120",
    "PROVIDER_RETRY_BACKOFF": "0.2",
    "DASHBOARD_OVERVIEW_REFRESH_SECONDS": "30",
    # Redis hands an unacknowledged task (its worker killed) to another worker after this;
    # it must outlast the longest retry countdown (ACTION_DISPATCH_BACKOFF * 2**5 = 64 s).
    "CELERY_VISIBILITY_TIMEOUT": "70",
    # ...and every task's hard time limit too (settings refuse a longer one on Redis): a
    # task still running past it would be handed to a second worker.
    "TASK_SOFT_TIME_LIMIT": "55",
    "TASK_TIME_LIMIT_GRACE": "10",
    "DELIVERY_TIME_LIMIT": "55",
    "ACTION_TIME_LIMIT": "55",
    "POLICY_DRY_RUN_TIME_LIMIT": "55",
    "THREAT_INTEL_TIME_LIMIT": "55",
    "VEX_REISSUE_TIME_LIMIT": "55",
    # One client posts hundreds of bodies a minute here: the webhook rate limit (a 429
    # telling the sender to come back later; tested in tests/webhooks/test_rate_limit.py)
    # is off, so that every post is a test of what the database outage does to it.
    "WEBHOOK_RATE_LIMIT": "0",
}


def pytest_collection_modifyitems(config, items):
    if os.environ.get("REMEDIATOR_FAULTS") == "1":
        return
    ours = [item for item in items if HERE in Path(str(item.path)).parents]
    if ours:
        config.hook.pytest_deselected(items=ours)
        items[:] = [item for item in items if item not in ours]


@dataclass
class Stack:
    root: Path
    logs: Path
    pg: Postgres
    redis: Redis
    fake: FakeGitLab
    app: App
    web_url: str
    approver_token: str = ""
    notes: list[str] = field(default_factory=list)

    def worker_ready(self) -> None:
        worker = self.app.procs["worker"]
        wait_for("worker ready", lambda: worker.logged_since_start(" ready."), 90)

    def start_worker(self) -> None:
        self.app.start("worker")
        self.worker_ready()

    def kill_worker(self) -> None:
        """kill -9 of the whole worker: its main process and every pool process."""
        self.app.procs["worker"].kill9()

    def web_ready(self) -> None:
        wait_for("web ready", lambda: requests.get(f"{self.web_url}/healthz", timeout=2).ok, 90)

    def ensure_up(self) -> None:
        """Undo what a failed scenario may have left broken."""
        if not self.pg.running:
            self.pg.start()
        if not self.redis.running:
            self.redis.start()
        for name in ("web", "worker", "beat"):
            if not self.app.procs[name].alive:
                self.app.start(name)
        self.web_ready()
        self.worker_ready()


def _app_env(root: Path, pg: Postgres, redis: Redis, web_port: int) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "CELERY_", "CACHE_", "WEBHOOK_", "DELIVERY_", "PG"))
    }
    data = root / "data"
    data.mkdir()
    env.update(TUNING)
    env.update(
        {
            "DATABASE_URL": pg.url,
            "CELERY_BROKER_URL": f"{redis.url}/0",
            "CACHE_URL": f"rediscache://127.0.0.1:{redis.port}/1",
            "DATA_DIR": str(data),
            "SECRET_KEY": secrets.token_urlsafe(40),
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "BIND": "127.0.0.1",
            "PORT": str(web_port),
            "WEB_CONCURRENCY": "2",
            "WORKER_CONCURRENCY": "2",
            "BASE_URL": f"http://127.0.0.1:{web_port}",
            "REMEDIATOR_SECRET_FAULTS_TRIGGER": TRIGGER_TOKEN,
            "REMEDIATOR_SECRET_FAULTS_API": API_TOKEN,
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


CONFIG = """
build_targets:
  - name: faults-gitlab
    images: ["registry.example.com/faults/dispatch*"]
    provider: gitlab
    url: {url}
    project: "42"
    ref: main
    token_env: REMEDIATOR_SECRET_FAULTS_TRIGGER
    api_token_env: REMEDIATOR_SECRET_FAULTS_API
policies:
  - name: faults-dispatch
    order: 1
    min_severity: low
    fix_available: true
    image: "registry.example.com/faults/dispatch*"
    action: rebuild
    build_target: faults-gitlab
    requires_approval: true
    owner: faults-requester
"""

USERS = """
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
approvers = Group.objects.get(name="Security approvers")
for name in ("faults-requester", "faults-approver"):
    user, _ = User.objects.get_or_create(username=name)
    user.groups.add(approvers)
print(Token.objects.get_or_create(user=User.objects.get(username="faults-approver"))[0].key)
"""


@pytest.fixture(scope="session")
def stack():
    root = Path(os.environ.get("FAULTS_ROOT") or tempfile.mkdtemp(prefix="remediator-faults-"))
    root.chmod(0o711)  # the postgres user must reach root/pg
    shutil.rmtree(OUT / "logs", ignore_errors=True)
    logs = OUT / "logs"
    logs.mkdir(parents=True)
    started = time.monotonic()
    pg, redis, fake, app = Postgres(root, logs), Redis(root, logs), None, None
    try:
        pg.init()
        redis.start()
        fake = FakeGitLab(trigger_token=TRIGGER_TOKEN, api_token=API_TOKEN).start()
        web_port = free_port()
        app = App(root, logs, _app_env(root, pg, redis, web_port))
        app.manage("migrate", "--noinput")
        token = app.manage("shell", "-c", USERS).strip().splitlines()[-1]
        config = root / "faults.yaml"
        config.write_text(CONFIG.format(url=fake.url))
        app.manage("apply_config", str(config))
        for name in ("web", "worker", "beat"):
            app.start(name)
        s = Stack(root, logs, pg, redis, fake, app, f"http://127.0.0.1:{web_port}", token)
        s.web_ready()
        s.worker_ready()
        print(
            f"\n[stack] up in {time.monotonic() - started:.1f} s: PostgreSQL :{pg.port}, "
            f"Redis :{redis.port}, web {s.web_url}, fake GitLab {fake.url}, logs {logs}"
        )
        yield s
    finally:
        if app is not None:
            app.stop_all()
        if fake is not None:
            fake.stop()
        redis.stop()
        if pg.running:
            try:
                pg.stop("fast")
            except Exception:
                pg.stop("immediate")
        if not os.environ.get("FAULTS_ROOT"):
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(autouse=True)
def healthy_stack(request):
    """Every scenario starts on a whole stack, whatever the previous one left."""
    if "stack" in request.fixturenames:
        request.getfixturevalue("stack").ensure_up()
    yield


@pytest.fixture
def record(request):
    def add(scenario: str, *, sent, ok, stored, processed, lost, duplicated, seconds, note=""):
        row = {
            "scenario": scenario,
            "sent": sent,
            "2xx": ok,
            "stored": stored,
            "processed": processed,
            "lost": lost,
            "duplicated": duplicated,
            "seconds": round(seconds, 1),
            "note": note,
        }
        RESULTS.append(row)
        print(f"\n[{scenario}] " + ", ".join(f"{k}={row[k]}" for k in (*COLUMNS[1:], "note")))

    return add


def _table() -> list[str]:
    head = [*COLUMNS, "note"]
    rows = [[str(r[c]) for c in head] for r in sorted(RESULTS, key=lambda r: r["scenario"])]
    return [
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" for _ in head) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    terminalreporter.section("fault suite figures")
    for line in _table():
        terminalreporter.write_line(line)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "summary.md").write_text("\n".join(_table()) + "\n")
    (OUT / "summary.json").write_text(json.dumps(RESULTS, indent=2, default=str) + "\n")
    terminalreporter.write_line(f"(also in {OUT / 'summary.md'}; logs in {OUT / 'logs'})")
