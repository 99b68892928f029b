"""Fleet day, a measured fraction: N scans of 500 findings (1 first scan + 4 unchanged
re-scans per tag: 80% unchanged) through real Celery workers on PostgreSQL and Redis,
each followed by its policy evaluation (one enabled policy), with 1 and 2 worker
processes. The table extrapolates linearly to 10,000 scans. Statistics are refreshed
every minute meanwhile (``ANALYZE_EVERY_S``), as autovacuum would."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator

from common import ROOT, parser, setup, write

FINDINGS = 500
SCANS_PER_TAG = 5


def _report(tag: int, scan: int) -> bytes:
    from ingest import trivy_report

    body = json.loads(
        trivy_report(FINDINGS, image=f"registry.example.com/fleet/svc{tag}:1",
                     digest="sha256:" + f"{tag:064x}")
    )  # fmt: skip
    body["CreatedAt"] = f"2026-01-01T{scan:02d}:00:00Z"
    return json.dumps(body).encode()


def fleet_prepare(scans: int, stamp: int) -> list[int]:
    """Store the deliveries (not timed), round-robin over the tags, and the policy."""
    from remediator.engine.models import Policy
    from remediator.intake.store import delivery_store

    Policy.objects.get_or_create(
        name="critical-fixable",
        defaults={"min_severity": "critical", "fix_available": True, "action": "rebuild",
                  "requires_approval": True},
    )  # fmt: skip
    tags = max(1, scans // SCANS_PER_TAG)
    ids = []
    for scan in range(SCANS_PER_TAG):
        for tag in range(tags):
            body = _report(stamp * 100_000 + tag, scan)
            delivery, _ = delivery_store(source="trivy", body=body, channel="cli")
            ids.append(delivery.pk)
    return ids


def queue_empty() -> bool:
    from remediator.celery import app

    with app.connection_for_read() as conn:
        client = conn.default_channel.client
        return client.llen("ingest") == 0 and client.hlen("unacked") == 0


@contextlib.contextmanager
def celery_worker(
    queues: str,
    concurrency: int,
    name: str = "ingest",
    nice: int = 0,
    cpus: set[int] | None = None,
) -> Iterator[int]:
    """A Celery worker (prefork, ``concurrency`` processes, at CPU priority ``nice``, on
    ``cpus`` only when given) consuming ``queues``, started and answering pings; yields
    its pid; stopped (warm shutdown) at the end."""
    from remediator.celery import app

    command = [
        *(["nice", "-n", str(nice)] if nice else []), str(ROOT / ".venv" / "bin" / "celery"),
        "-A", "remediator.celery", "worker",
        "--concurrency", str(concurrency), "--queues", queues, "--loglevel", "WARNING",
        "--without-mingle", "--hostname", f"{name}@%h",
    ]  # fmt: skip
    worker = subprocess.Popen(
        command,
        cwd=ROOT,
        env=os.environ.copy(),
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
    )
    try:
        for _ in range(120):  # the worker's start-up is not the fleet's time
            if any(name in next(iter(r)) for r in app.control.ping(timeout=0.5)):
                break
        yield worker.pid
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)


ANALYZE_EVERY_S = 60.0
"""The tables' statistics are refreshed this often while the fleet runs, as autovacuum
would (this machine's PostgreSQL runs without it, and the part starts on an empty
database: a million findings later, plans made for empty tables took a second each)."""


def _block(ids: list[int]) -> tuple[int, int]:
    """The first and last of ``ids``, one block of a run's deliveries (stored one after
    the other by ``fleet_prepare``): the poll below counts by range. A list of 10,000
    ids in the query cost the polling process 50 ms of CPU and PostgreSQL 12 ms, five
    times a second, taken from the workers it measures."""
    first, last = min(ids), max(ids)
    assert last - first + 1 == len(ids), "the deliveries of a run are one block of ids"
    return first, last


def fleet_send_and_wait(ids: list[int]) -> float:
    """Enqueue the deliveries ``ids`` and wait until every one is processed; seconds."""
    from django.db import connection

    from findings.models import Delivery
    from remediator.intake.tasks import delivery_process_task

    fleet = _block(ids)
    started = time.perf_counter()
    analyzed = started
    for pk in ids:
        delivery_process_task.delay(pk)
    while True:
        queued = Delivery.objects.filter(pk__range=fleet, status=Delivery.Status.QUEUED).count()
        if queued == 0 and queue_empty():
            break
        if connection.vendor == "postgresql" and time.perf_counter() - analyzed > ANALYZE_EVERY_S:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            analyzed = time.perf_counter()
        time.sleep(0.2)
    return time.perf_counter() - started


def fleet_check(ids: list[int]) -> None:
    from findings.models import Delivery

    rejected = Delivery.objects.filter(
        pk__range=_block(ids), status=Delivery.Status.REJECTED
    ).count()
    assert rejected == 0, f"{rejected} deliveries rejected"


def _run(ids: list[int], workers: int) -> float:
    with celery_worker("ingest", workers):
        elapsed = fleet_send_and_wait(ids)
    fleet_check(ids)
    return elapsed


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--scans", type=int, default=500)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = p.parse_args()
    setup(fresh=True)
    from remediator.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.client.delete("ingest", "unacked", "unacked_index")
    result: dict = {"scans": args.scans, "findings": FINDINGS, "by_workers": {}}
    stamp = 0
    for run in range(args.runs):
        for workers in args.workers:
            stamp += 1
            ids = fleet_prepare(args.scans, stamp)
            seconds = _run(ids, workers)
            result["by_workers"].setdefault(str(workers), []).append(seconds)
            print(f"run {run}: {workers} worker(s): {len(ids)} scans in {seconds:.1f} s")
    write(args.out, result)


if __name__ == "__main__":
    main()
