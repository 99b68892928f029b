"""The webhook receiver when the database cannot store a body: spool it, answer 202.

``spool_answer`` writes the body to the spool (``findings/spool.py``: directory
``WEBHOOK_SPOOL_DIR``, default ``$DATA_DIR/spool``) and answers
``202 {"status": "spooled", "spool_id": ..., "detail": ...}`` (``"duplicate": true``
when a waiting file holds that body already: it is not written twice). A body that
would take the spool past ``WEBHOOK_SPOOL_MAX_BYTES`` is answered
``503 {"error": "spool_full", ...}``, one that cannot be written
``503 {"error": "unavailable", ...}``, both with ``Retry-After: WEBHOOK_RETRY_AFTER``:
the body is not kept and the sender sends it again. ``spool_replay_soon`` is called after a body
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

from findings.spool import DATABASE_DOWN, SpoolError, SpoolFull, spool_has_files, spool_keep
from findings.spool_replay import spool_replay
from remediator.core.metrics import WEBHOOK_SPOOL_FAILED, WEBHOOK_SPOOL_FULL, WEBHOOK_SPOOLED

from .errors import error_response

logger = logging.getLogger(__name__)

__all__ = ["DATABASE_DOWN", "spool_answer", "spool_replay_soon"]

_last_inline_replay = 0.0


def spool_answer(fields: dict, error: Exception) -> Response:
    """202 once ``fields`` (delivery_store's arguments) are on disk (or were already: a
    repeat of a waiting body); 503 when they cannot be kept."""
    source = fields["source"]
    retry_after = str(settings.WEBHOOK_RETRY_AFTER)
    try:
        spooled = spool_keep(**{k: v for k, v in fields.items() if k != "channel"})
    except SpoolFull as exc:
        WEBHOOK_SPOOL_FULL.labels(source=source).inc()
        logger.error("webhook %s: database down (%r) and the spool is full: %s", source, error, exc)
        return error_response(
            503,
            "spool_full",
            "the database is unavailable and the spool holds WEBHOOK_SPOOL_MAX_BYTES "
            "already: the body was not kept; send it again later",
            **{"Retry-After": retry_after},
        )
    except SpoolError as exc:
        WEBHOOK_SPOOL_FAILED.labels(source=source).inc()
        logger.error("webhook %s: database down (%r) and spool failed: %s", source, error, exc)
        return error_response(
            503,
            "unavailable",
            "the database is unavailable and the body could not be spooled; send it again later",
            **{"Retry-After": retry_after},
        )
    answer = {
        "status": "spooled",
        "spool_id": spooled.spool_id,
        "detail": "the database is unavailable: the body is kept on disk and will be "
        "stored and processed when it is back",
    }
    if spooled.duplicate:
        answer["duplicate"] = True
        logger.info("webhook %s: database down; already spooled as %s", source, spooled.spool_id)
    else:
        WEBHOOK_SPOOLED.labels(source=source).inc()
        logger.warning(
            "webhook %s: database down (%r); body spooled as %s", source, error, spooled.spool_id
        )
    return Response(answer, status=202)


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
