"""Every task lands on a queue the Procfile's worker consumes, and people's actions
never wait behind a flood of scans: they have their own queue."""

from __future__ import annotations

import re
from pathlib import Path

from remediator.celery import app

ROOT = Path(__file__).resolve().parents[2]
ACTION_TASKS = {
    "remediator.action_dispatch",
    "remediator.action_poll",
    "remediator.action_notify",
    "remediator.action_pull_request_update",
}


def queue_of(name: str) -> str:
    return app.amqp.router.route({}, name)["queue"].name


def ours() -> list[str]:
    app.loader.import_default_modules()
    return sorted(n for n in app.tasks if n.startswith(("findings.", "remediator.")))


def test_every_task_goes_to_a_queue_the_procfile_worker_consumes():
    procfile = (ROOT / "Procfile").read_text().splitlines()
    [worker] = [line for line in procfile if line.startswith("worker:")]
    consumed = set(re.search(r"WORKER_QUEUES:-([\w,]+)", worker).group(1).split(","))
    routed = {name: queue_of(name) for name in ours()}
    assert len(routed) >= 15
    assert {name for name, queue in routed.items() if queue not in consumed} == set()


def test_action_tasks_have_their_own_queue_and_ingest_is_elsewhere():
    names = ours()
    assert set(names) >= ACTION_TASKS
    assert {queue_of(name) for name in ACTION_TASKS} == {"actions"}
    assert queue_of("findings.delivery_process") == "ingest"
    assert {n for n in names if queue_of(n) == "actions"} == ACTION_TASKS
