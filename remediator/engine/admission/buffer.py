"""Audit events and inventory rows of admission decisions, written off the request path.

Each web process keeps what its answers produced in memory and a daemon thread writes it
every ``ADMISSION_WRITE_DELAY_SECONDS`` in one ``bulk_create`` per kind (and at exit):
an answer costs no database write. With the delay at 0 (the tests) it writes at once.
A crash of the process loses at most that many seconds of audit rows.

No event is lost to another's text: every text is made storable first
(``audit_storable``), and when a batch insert fails anyway its events are written one
by one, so one bad row costs only itself; that row is logged (quoted) and counted in
``remediator_audit_write_failures_total``. After the events are written, each
break-glass use is handed to a worker to tell the security team.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time

from django.conf import settings
from django.db import connection, transaction

from findings.models import RunningImage
from remediator.cluster.inventory import inventory_record
from remediator.cluster.pods import RunningRow
from remediator.core.metrics import AUDIT_WRITE_FAILURES
from remediator.engine.audit import audit_storable
from remediator.engine.models import AuditEvent
from remediator.engine.services.queue import enqueue_break_glass_notify

log = logging.getLogger(__name__)
MAX_PENDING = 20_000
"""Past this many unwritten events (the database is away), the oldest are dropped."""


class WriteBuffer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[AuditEvent] = []
        self._rows: dict[tuple, RunningRow] = {}
        """Keyed by container: the same workload reviewed again is one upsert."""
        self._notices: list[dict] = []
        self._pid = 0
        self._thread: threading.Thread | None = None

    def add(self, event: AuditEvent, rows: list[RunningRow], notice: dict | None = None) -> None:
        """Queue one decision's event, its inventory rows and, for a break-glass use, the
        notice for the security team (sent once the event is written)."""
        notices = [notice] if notice is not None else []
        delay = settings.ADMISSION_WRITE_DELAY_SECONDS
        if delay <= 0:
            self._write([event], rows, notices)
            return
        with self._lock:
            self._events.append(event)
            del self._events[:-MAX_PENDING]
            self._notices += notices
            del self._notices[:-MAX_PENDING]
            if len(self._rows) < MAX_PENDING:
                for row in rows:
                    self._rows[(row.cluster, row.namespace, row.kind, row.name, row.container)] = (
                        row
                    )
            if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, args=(delay,), name="admission-writer", daemon=True
                )
                self._thread.start()

    def _run(self, delay: float) -> None:
        while True:
            time.sleep(delay)
            try:
                self.flush()
            finally:
                connection.close()

    def flush(self) -> None:
        with self._lock:
            events, self._events = self._events, []
            rows, self._rows = list(self._rows.values()), {}
            notices, self._notices = self._notices, []
        if events or rows or notices:
            self._write(events, rows, notices)

    @staticmethod
    def _write(events: list[AuditEvent], rows: list[RunningRow], notices: list[dict]) -> None:
        try:
            if events:
                events_write(events)
            if rows:
                inventory_record(rows, source=RunningImage.Source.ADMISSION)
        except Exception:  # never let the audit writer take a request or the thread down
            log.exception("admission: %d inventory rows not recorded", len(rows))
        for notice in notices:
            try:
                enqueue_break_glass_notify(notice)
            except Exception:  # the broker is away: the audit event still says it all
                log.exception("admission: break-glass notice not queued for %r", notice["uid"])


def events_write(events: list[AuditEvent]) -> int:
    """Insert ``events`` (made storable) in one batch, else one by one; the number
    written. An event refused alone is logged, quoted, and counted, never silently lost."""
    events = [audit_storable(event) for event in events]
    try:
        with transaction.atomic():
            AuditEvent.objects.bulk_create(events, batch_size=500)
        return len(events)
    except Exception as exc:
        log.warning(
            "admission: a batch of %d audit events failed (%s); writing them one by one",
            len(events),
            type(exc).__name__,
        )
    written = 0
    for event in events:
        event.pk = None  # a rolled-back batch may have numbered it
        event._state.adding = True
        try:
            with transaction.atomic():
                event.save(force_insert=True)
            written += 1
        except Exception as exc:
            AUDIT_WRITE_FAILURES.labels(kind=event.kind).inc()
            log.error(
                "audit event not stored (%s): kind=%r actor=%r object=%r message=%r",
                type(exc).__name__,
                event.kind,
                event.actor_label,
                event.object_id,
                event.message[:500],
            )
    return written


BUFFER = WriteBuffer()
atexit.register(BUFFER.flush)
