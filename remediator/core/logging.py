"""Optional JSON logs (``LOG_FORMAT=json``): one object a line, with the delivery or action id.

``log_context(delivery_id=...)`` adds fields to every record logged inside it; Celery
tasks get theirs from :func:`task_log_context_connect` (the task's first argument,
for the tasks named in ``TASK_ID_FIELDS``). ``logger.info(..., extra={"action_id": 7})``
works too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from celery.signals import task_postrun, task_prerun

from .logsafe import json_safe

CONTEXT_FIELDS = ("delivery_id", "action_id", "scan_id", "task")
TASK_ID_FIELDS = {
    "findings.delivery_process": "delivery_id",
    "remediator.action_dispatch": "action_id",
    "remediator.action_poll": "action_id",
    "remediator.action_notify": "action_id",
    "remediator.scan_evaluate": "scan_id",
}
_context: ContextVar[dict | None] = ContextVar("remediator_log_context", default=None)


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    token = _context.set({**(_context.get() or {}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object a line; characters JSON leaves raw (C1, U+2028, bidi) escaped too."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = _context.get() or {}
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None) or context.get(name)
            if value is not None:
                data[name] = value
        if record.exc_text:  # as OneLineFilter (and RedactSecretsFilter) left it
            data["exception"] = record.exc_text.strip()
        elif record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json_safe(json.dumps(data, default=str, ensure_ascii=False))


def _task_started(task=None, args=None, **_kwargs) -> None:
    fields: dict[str, object] = {"task": getattr(task, "name", "")}
    field = TASK_ID_FIELDS.get(fields["task"])
    if field and args:
        fields[field] = args[0]
    _context.set(fields)


def _task_finished(**_kwargs) -> None:
    _context.set(None)


def task_log_context_connect() -> None:
    """Give every Celery task's log records its name and the id it works on."""
    task_prerun.connect(_task_started, weak=False)
    task_postrun.connect(_task_finished, weak=False)
