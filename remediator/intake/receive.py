"""The one way in: ``delivery_receive`` takes a body from the webhook, the command line,
the spool replay or Harbor's API; ``delivery_process`` is the one way a stored delivery is
processed, by a worker or here and now.

Receiving: decode what must be decoded now -> store the raw Delivery (a repeat is a
no-op) -> then, as the caller asks (:class:`Then`): check it and queue it for a worker
(a webhook post, whose sender is told at once when the body is unusable), queue it as it
is (a spooled body, answered long ago), or process it here (the command line, Harbor's
reports). A webhook body the database cannot take is spooled to disk instead
(``spool.py``). The answer is a :class:`Receipt`; HTTP status codes are the view's.

Processing: decode -> a Harbor event (``harbor.py``: its reports are fetched and
received here, one by one) or a report (``recognise.py``: parsed once) -> the hand-off
to ``findings.ingest`` (``store.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.conf import settings

from findings.ingest import IngestResult, ReportIngestResult
from findings.models import Delivery
from findings.parsers import DOCUMENT_SOURCES, load_body
from findings.parsers.base import ParseError
from findings.parsers.harbor import is_webhook_event as is_harbor_event
from findings.vex.imports import VexImportResult
from remediator.core.metrics import WEBHOOK_SPOOL_FAILED, WEBHOOK_SPOOL_FULL, WEBHOOK_SPOOLED
from remediator.core.storable import is_storable_text

from .harbor import (
    COMPLETED,
    EVENT_SOURCES,
    harbor_event_done,
    harbor_event_fetch,
    harbor_event_kind,
    harbor_report_rejected,
)
from .outline import body_decode_for_checks
from .queue import delivery_enqueue, delivery_enqueue_on_commit
from .recognise import Unusable, report_check, report_parse
from .spool import DATABASE_DOWN, SpoolError, SpoolFull, spool_keep
from .store import (
    DeliveryRejected,
    delivery_ingest,
    delivery_reject,
    delivery_rejected,
    delivery_store,
)
from .vex import vex_check, vex_delivery_process

logger = logging.getLogger(__name__)

_UNREAD = object()


class Then(StrEnum):
    """What happens to a body once it is stored."""

    CHECK_AND_QUEUE = "check-and-queue"
    """A webhook post: recognised now where that is cheap, then queued for a worker."""
    QUEUE = "queue"
    """A body answered long ago (spooled): queued for a worker as it is."""
    PROCESS = "process"
    """Processed here and now (the command line, Harbor's fetched reports)."""


class Outcome(StrEnum):
    QUEUED = "queued"
    """Stored and handed to a worker (or left to the sweep when the broker is away)."""
    DUPLICATE = "duplicate"
    """These bytes, or this sender's delivery id, arrived before: the first delivery."""
    DONE = "done"
    """Processed here: a report ingested, or an event that asks for nothing, recorded."""
    REJECTED = "rejected"
    """Stored and kept as rejected: ``problem`` says why."""
    SPOOLED = "spooled"
    """The database could not take it: kept on disk, stored when it is back."""
    SPOOL_FULL = "spool_full"
    """Neither the database nor the spool (WEBHOOK_SPOOL_MAX_BYTES) could take it: not kept."""
    NOT_KEPT = "unavailable"
    """Neither the database nor the spool could take it (a write failed): not kept."""


@dataclass(frozen=True)
class Problem:
    error: str
    """invalid_body, invalid_parameter, unknown_format, no_image, invalid_event,
    invalid_vex; or rejected, when the body was processed here and turned out unusable."""
    detail: str


@dataclass(frozen=True)
class Receipt:
    outcome: Outcome
    delivery: Delivery | None = None
    problem: Problem | None = None
    result: IngestResult | ReportIngestResult | VexImportResult | None = None
    """What ingesting (or importing a VEX document) did, when it was processed here."""
    spool_id: str = ""
    spooled_before: bool = False
    """A waiting spool file held these bytes already (same source and image hint)."""

    def as_dict(self) -> dict:
        """What a command prints: the ingest summary, else the delivery's state."""
        if self.result is not None:
            return self.result.as_dict()
        if self.delivery is None:
            return {"status": self.outcome.value, "spool_id": self.spool_id}
        answer = {"delivery": self.delivery.pk, "status": self.delivery.status}
        return {**answer, "detail": self.delivery.error} if self.delivery.error else answer


def delivery_receive(
    *,
    source: str,
    body: bytes,
    channel: str,
    then: Then,
    external_id: str = "",
    content_type: str = "",
    headers: dict | None = None,
    image_hint: str = "",
    received_at: datetime | None = None,
    outage: Exception | None = None,
) -> Receipt:
    """Receive one body (see the module doc). ``outage``: an error this very request met
    already; when it is the database's, the body goes to the spool without a second wait.

    A transient failure while processing here (Harbor away) is raised; so is a database
    outage, except for a webhook post (spooled, or left queued for the sweep)."""
    fields = {
        "source": source,
        "body": body,
        "external_id": external_id,
        "content_type": content_type,
        "headers": headers or {},
        "image_hint": image_hint,
        "received_at": received_at,
    }
    if then is Then.QUEUE:
        delivery, created = delivery_store(**fields, channel=channel)
        if not created:
            return Receipt(Outcome.DUPLICATE, delivery)
        delivery_enqueue(delivery_id=delivery.pk)  # False: left queued for the sweep
        return Receipt(Outcome.QUEUED, delivery)
    if then is Then.PROCESS:
        delivery, _ = delivery_store(**fields, channel=channel)
        try:
            result = delivery_process(delivery=delivery)
        except DeliveryRejected as exc:
            return Receipt(Outcome.REJECTED, delivery, Problem("rejected", str(exc)))
        return Receipt(Outcome.DONE, delivery, result=result)
    document, load_error = body_decode_for_checks(source, body)
    fields["external_id"] = external_id or cloudevent_id(document)
    if isinstance(outage, DATABASE_DOWN):
        return _spool(fields, outage)
    try:
        delivery, created = delivery_store(**fields, channel=channel)
    except DATABASE_DOWN as exc:  # nothing lost: on disk, stored when the database is back
        return _spool(fields, exc)
    try:
        return _checked(delivery, created, source, document, load_error, image_hint, len(body))
    except DATABASE_DOWN:  # stored and queued: the delivery sweep hands it to a worker
        return Receipt(Outcome.QUEUED, delivery)


def cloudevent_id(document: object) -> str:
    """A CloudEvent's own id (Harbor's CloudEvents format): the sender's delivery id
    when no header names one."""
    if isinstance(document, dict) and "specversion" in document:
        event_id = document.get("id")
        if isinstance(event_id, str | int) and str(event_id).strip():
            return str(event_id).strip()
    return ""


def _rejected(delivery: Delivery, error: str, detail: str) -> Receipt:
    delivery_reject(delivery=delivery, reason=detail)
    return Receipt(Outcome.REJECTED, delivery, Problem(error, detail))


def _checked(
    delivery: Delivery,
    created: bool,
    source: str,
    document: object,
    load_error: ParseError | None,
    image_hint: str,
    size: int,
) -> Receipt:
    """A webhook post, stored: checked where that is cheap, then queued."""
    if not created:
        return Receipt(Outcome.DUPLICATE, delivery)
    if not is_storable_text(image_hint):
        return _rejected(
            delivery, "invalid_parameter", "?image= (or X-Remediator-Image) holds a NUL"
        )
    if load_error is not None:
        return _rejected(delivery, "invalid_body", str(load_error))
    kind = ""
    event = source in EVENT_SOURCES and is_harbor_event(document)
    if size <= settings.WEBHOOK_CHECK_MAX_BYTES or event:
        if event:
            try:
                kind = harbor_event_kind(document)
            except ParseError as exc:
                return _rejected(delivery, "invalid_event", str(exc))
        else:
            try:
                if source in DOCUMENT_SOURCES:
                    vex_check(document)
                else:
                    report_check(source, document, delivery.image_hint)
            except Unusable as exc:
                return _rejected(delivery, exc.error, str(exc))
    if kind and kind != COMPLETED:
        delivery_process(delivery=delivery, document=document)  # recorded, no I/O
        return Receipt(Outcome.DONE, delivery)
    delivery_enqueue_on_commit(delivery_id=delivery.pk)
    return Receipt(Outcome.QUEUED, delivery)


def _spool(fields: dict, error: Exception) -> Receipt:
    """The database cannot take a webhook's body: keep it on disk, once."""
    source = fields["source"]
    try:
        spooled = spool_keep(**fields)
    except SpoolFull as exc:
        WEBHOOK_SPOOL_FULL.labels(source=source).inc()
        logger.error("webhook %s: database down (%r) and the spool is full: %s", source, error, exc)
        return Receipt(Outcome.SPOOL_FULL)
    except SpoolError as exc:
        WEBHOOK_SPOOL_FAILED.labels(source=source).inc()
        logger.error("webhook %s: database down (%r) and spool failed: %s", source, error, exc)
        return Receipt(Outcome.NOT_KEPT)
    if spooled.duplicate:
        logger.info("webhook %s: database down; already spooled as %s", source, spooled.spool_id)
    else:
        WEBHOOK_SPOOLED.labels(source=source).inc()
        logger.warning(
            "webhook %s: database down (%r); body spooled as %s", source, error, spooled.spool_id
        )
    return Receipt(Outcome.SPOOLED, spool_id=spooled.spool_id, spooled_before=spooled.duplicate)


def delivery_process(
    *, delivery: Delivery, document: object = _UNREAD
) -> IngestResult | ReportIngestResult | VexImportResult | None:
    """Process a stored delivery whatever it holds: a report (ingested: its result), a
    VEX document (imported: its result), or a Harbor event (its reports fetched and
    received: None). ``document`` is the
    decoded body, when the caller has it. Processing a processed report again changes
    nothing (the same scan is found).

    Raises DeliveryRejected (permanent, recorded) or a transient error (ProviderError
    with permanent=False, database OperationalError).
    """
    if document is _UNREAD:
        try:
            document = load_body(delivery.source, delivery.body)
        except ParseError as exc:
            raise delivery_rejected(delivery=delivery, reason=str(exc)) from exc
    if delivery.source in DOCUMENT_SOURCES:
        return vex_delivery_process(delivery=delivery, document=document)
    if delivery.source in EVENT_SOURCES and is_harbor_event(document):
        _event_process(delivery, document)
        return None
    try:
        parsed = report_parse(delivery, document)
    except ParseError as exc:
        raise delivery_rejected(delivery=delivery, reason=str(exc)) from exc
    del document  # the decoded body is not needed while the findings are written
    return delivery_ingest(delivery=delivery, parsed=parsed)


def _event_process(event: Delivery, document: object) -> None:
    fetched = harbor_event_fetch(delivery=event, document=document)
    if fetched is None:
        return  # recorded: the event asks for nothing
    reports = []
    for report in fetched:
        receipt = delivery_receive(**report, then=Then.PROCESS)
        if receipt.problem is not None:
            reason = receipt.problem.detail
            raise harbor_report_rejected(event=event, report=receipt.delivery, reason=reason)
        reports.append(receipt.delivery)
    harbor_event_done(event=event, reports=reports)
