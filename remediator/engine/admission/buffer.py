"""Audit events and inventory rows of admission decisions, written off the request path.

Each web process keeps what its answers produced in memory and a daemon thread writes it
every ``ADMISSION_WRITE_DELAY_SECONDS`` in one ``bulk_create`` per kind (and at exit):
an answer costs no database write. With the delay at 0 (the tests) it writes at once.
A crash of the process loses at most that many seconds of audit rows.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time

from django.conf import settings
from django.db import connection

from findings.inventory import inventory_record
from findings.models import RunningImage
from findings.pods import RunningRow
from remediator.engine.models import AuditEvent

log = logging.getLogger(__name__)
MAX_PENDING = 20_000
"""Past this many unwritten events (the database is away), the oldest are dropped."""


class WriteBuffer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[AuditEvent] = []
        self._rows: dict[tuple, RunningRow] = {}
        """Keyed by container: the same workload reviewed again is one upsert."""
        self._pid = 0
        self._thread: threading.Thread | None = None

    def add(self, event: AuditEvent, rows: list[RunningRow]) -> None:
        delay = settings.ADMISSION_WRITE_DELAY_SECONDS
        if delay <= 0:
            self._write([event], rows)
            return
        with self._lock:
            self._events.append(event)
            del self._events[:-MAX_PENDING]
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
        if events or rows:
            self._write(events, rows)

    @staticmethod
    def _write(events: list[AuditEvent], rows: list[RunningRow]) -> None:
        try:
            if events:
                AuditEvent.objects.bulk_create(events, batch_size=500)
            if rows:
                inventory_record(rows, source=RunningImage.Source.ADMISSION)
        except Exception:  # never let the audit writer take a request or the thread down
            log.exception(
                "admission: %d audit events and %d inventory rows lost", len(events), len(rows)
            )


BUFFER = WriteBuffer()
atexit.register(BUFFER.flush)
