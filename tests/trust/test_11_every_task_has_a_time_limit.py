"""No task runs without a time limit.

Every task registered with the app has a finite soft and hard limit (a global default
in settings, longer ones per task where the work is longer), each below the Redis
visibility timeout. A task that reaches its soft limit ends cleanly and records why:
shown here with a real prefork worker (the pool that enforces limits) and a tiny limit
given to one call, against a real local server that never finishes answering.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from findings.models import Delivery, Finding, Scan
from remediator.celery import app
from remediator.engine.models import ActionState, AuditEvent, BuildTarget, RemediationAction
from remediator.engine.tasks import action_dispatch_task
from remediator.intake.store import delivery_store
from remediator.intake.tasks import delivery_process_task
from tests.dashboard.factories import make_action, make_tag
from tests.waiting import wait_for

from ..conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[2]
HARBOR_EVENT = (FIXTURES / "harbor" / "zulip_scanning_completed.json").read_bytes()


def _ours() -> dict:
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_registered_task_has_a_finite_soft_and_hard_time_limit(settings):
    tasks = _ours()
    assert len(tasks) >= 15, sorted(tasks)
    for name, task in tasks.items():
        soft, hard = task.soft_time_limit, task.time_limit
        assert soft and hard, f"{name} has no time limit"
        assert 0 < soft < hard, f"{name}: soft {soft} must come before hard {hard}"
        assert hard < settings.CELERY_VISIBILITY_TIMEOUT, f"{name} outlives redelivery"


def test_the_long_tasks_get_longer_limits_than_the_default(settings):
    tasks = _ours()
    default = settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert tasks["findings.delivery_sweep"].soft_time_limit == default
    assert tasks["findings.delivery_process"].soft_time_limit == settings.DELIVERY_TIME_LIMIT
    assert tasks["remediator.action_dispatch"].soft_time_limit == settings.ACTION_TIME_LIMIT
    refresh = tasks["remediator.threat_intel_refresh"]
    assert refresh.soft_time_limit > 2 * settings.THREAT_INTEL_DOWNLOAD_DEADLINE
    for task in tasks.values():
        assert task.time_limit - task.soft_time_limit == settings.TASK_TIME_LIMIT_GRACE


@pytest.mark.parametrize(
    "env, message",
    [
        ({"DELIVERY_TIME_LIMIT": "3000"}, "must exceed the longest task time limit (3060 s)"),
        ({"TASK_SOFT_TIME_LIMIT": "0"}, "must be positive"),
    ],
)
def test_limits_that_redis_would_cut_short_are_refused_at_start(tmp_path, env, message):
    """A task outliving the visibility timeout would be handed to a second worker."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CELERY")},
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/5",
        "DATA_DIR": str(tmp_path),
        **env,
    }
    run = subprocess.run(
        [sys.executable, "-c", "import remediator.settings"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0 and message in run.stderr, run.stderr


# --- a real worker: a task past its soft limit ends cleanly -------------------------------


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def never_finishes(stop) -> Iterator[HTTPServer]:
    """A server that sends its headers and part of a body, then nothing until the test
    ends: each read waits under the read timeout, so only a time limit ends the task."""
    server = HTTPServer(threaded=True)
    server.start()

    def handler(_request: Request) -> Response:
        def body() -> Iterator[bytes]:
            yield b'{"partial": '
            stop.wait(120)

        return Response(body(), content_type="application/json", direct_passthrough=True)

    server.expect_request("/", method="POST").respond_with_handler(handler)
    server.expect_request(
        "/api/v2.0/projects/test/repositories/alpine%2Fhelm/artifacts/"
        "sha256:b50334049354ed01330403212605dce2f4676a4e787ed113506861d9cf3c5424"
        "/additions/vulnerabilities"
    ).respond_with_handler(handler)
    yield server
    stop.set()
    server.clear()
    server.stop()


@pytest.fixture
def prefork_worker(settings, monkeypatch, never_finishes):
    """A real worker with the prefork pool (one process), as the Procfile runs it. Its
    process is forked at start: settings and environment are set before."""
    settings.PROVIDER_RETRIES = 0
    settings.PROVIDER_READ_TIMEOUT = 60.0
    settings.DELIVERY_MAX_RETRIES = 0
    settings.HARBOR_URL = never_finishes.url_for("/").rstrip("/")
    settings.HARBOR_USERNAME = "robot$remediator"
    monkeypatch.setenv("HARBOR_PASSWORD", "harbor-pass")
    monkeypatch.setenv("REMEDIATOR_SECRET_HOOK", "hook-secret")
    app.conf.task_always_eager = False
    with app.connection_for_write() as connection:
        for queue in ("ingest", "actions"):
            connection.default_channel.queue_purge(queue)
    with start_worker(
        app,
        pool="prefork",
        concurrency=1,
        queues=["ingest", "actions"],
        perform_ping_check=False,
        shutdown_timeout=30,
    ) as worker:
        yield worker


@pytest.mark.django_db(transaction=True)
def test_an_ingest_past_its_soft_limit_rolls_back_and_marks_the_delivery(prefork_worker):
    """Harbor's report never finishes arriving (DELIVERY_MAX_RETRIES=0): the delivery is
    given up with the reason, and nothing of it is stored."""
    delivery, _ = delivery_store(source="harbor", body=HARBOR_EVENT)

    delivery_process_task.apply_async((delivery.pk,), soft_time_limit=2, time_limit=30)

    assert wait_for(lambda: Delivery.objects.get(pk=delivery.pk).status != "queued", 60)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.REJECTED
    assert delivery.error == (
        "gave up after 1 attempts: processing stopped at its time limit (2 s, DELIVERY_TIME_LIMIT)"
    )
    assert delivery.attempts == 1
    assert not Scan.objects.exists() and not Finding.objects.exists()
    assert not Delivery.objects.filter(channel="harbor-api").exists()


@pytest.mark.django_db(transaction=True)
def test_a_dispatch_past_its_soft_limit_fails_the_action_with_the_reason(
    never_finishes, prefork_worker
):
    """The CI system takes the trigger and never answers: the action fails naming the limit
    instead of holding a worker."""
    target = BuildTarget.objects.create(
        name="slow-hook",
        provider="webhook",
        url=never_finishes.url_for("/"),
        token_env="REMEDIATOR_SECRET_HOOK",
        image_patterns=["*"],
    )
    action = make_action(make_tag("team/api"), state=ActionState.APPROVED, build_target=target)

    action_dispatch_task.apply_async((action.pk,), soft_time_limit=2, time_limit=30)

    assert wait_for(lambda: RemediationAction.objects.get(pk=action.pk).state == "failed", 60)
    action.refresh_from_db()
    assert action.error == "dispatch stopped at its time limit (2 s, ACTION_TIME_LIMIT)"
    failed = AuditEvent.objects.get(action=action, to_state=ActionState.FAILED)
    assert failed.from_state == ActionState.DISPATCHED
