"""The webhook receiver when the database cannot store a body: spool it, answer 202.

``spool_answer`` writes the body to the spool (``findings/spool.py``: directory
``WEBHOOK_SPOOL_DIR``, default ``$DATA_DIR/spool``) and answers
``202 {"status": "spooled", "spool_id": ..., "detail": ...}``; only when even the
spool fails does it answer ``503 {"error": "unavailable", ...}`` with
``Retry-After: WEBHOOK_RETRY_AFTER``. ``spool_replay_soon`` is called after a body
was stored: when this process finds files in the spool (at most once every
``WEBHOOK_SPOOL_INLINE_EVERY`` seconds; one directory listing) it replays them
for up to ``WEBHOOK_SPOOL_INLINE_BUDGET`` seconds, so a web machine whose spool
the worker cannot see drains it too. Beat's ``findings.spool_replay`` does the rest.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from rest_framework.response import Response

from findings.spool import DATABASE_DOWN, SpoolError, spool_has_files, spool_replay, spool_write
from remediator.core.metrics import WEBHOOK_SPOOL_FAILED, WEBHOOK_SPOOLED

from .errors import error_response

logger = logging.getLogger(__name__)

__all__ = ["DATABASE_DOWN", "spool_answer", "spool_replay_soon"]

_last_inline_replay = 0.0


def spool_answer(fields: dict, error: Exception) -> Response:
    """202 once ``fields`` (delivery_store's arguments) are on disk; 503 when they cannot be."""
    source = fields["source"]
    try:
        spool_id = spool_write(**{k: v for k, v in fields.items() if k != "channel"})
    except SpoolError as exc:
        WEBHOOK_SPOOL_FAILED.labels(source=source).inc()
        logger.error("webhook %s: database down (%r) and spool failed: %s", source, error, exc)
        retry_after = str(settings.WEBHOOK_RETRY_AFTER)
        return error_response(
            503,
            "unavailable",
            "the database is unavailable and the body could not be spooled; send it again later",
            **{"Retry-After": retry_after},
        )
    WEBHOOK_SPOOLED.labels(source=source).inc()
    logger.warning("webhook %s: database down (%r); body spooled as %s", source, error, spool_id)
    return Response(
        {
            "status": "spooled",
            "spool_id": spool_id,
            "detail": "the database is unavailable: the body is kept on disk and will be "
            "stored and processed when it is back",
        },
        status=202,
    )


def spool_replay_soon() -> None:
    """Cheap when the spool is empty; else replay a little of it in this request."""
    global _last_inline_replay
    now = time.monotonic()
    if now - _last_inline_replay < settings.WEBHOOK_SPOOL_INLINE_EVERY:
        return
    _last_inline_replay = now
    if not spool_has_files():
        return
    try:
        spool_replay(budget=settings.WEBHOOK_SPOOL_INLINE_BUDGET)
    except Exception:  # the sender's body is stored: never fail its answer for the spool
        logger.exception("inline spool replay failed (beat's findings.spool_replay will retry)")
