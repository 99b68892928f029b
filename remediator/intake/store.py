"""The raw Delivery and its states, in one place: stored first, byte for byte, once; then
handed to ``findings.ingest`` and marked processed in the same transaction (the engine
hears of each new scan once it has committed: ``findings.signals.scan_ingested``), or
closed as ignored or rejected (with the reason).

Nothing a sender posts is lost: the body is stored before it is parsed, and a body that
cannot be used is kept as a rejected delivery with the reason.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from findings.ingest import IngestResult, ReportIngestResult, scan_ingest
from findings.models import Delivery
from findings.parsers.screen import REFUSAL_EXAMPLES
from findings.signals import scan_ingested
from remediator.core.metrics import ingest_observe
from remediator.core.storable import storable_json, storable_text

from .recognise import CREDENTIAL_HEADERS, Parsed, credential_headers


class DeliveryRejected(Exception):
    """The delivery was stored but cannot be used; ``str(exc)`` says why."""

    def __init__(self, delivery: Delivery, reason: str) -> None:
        super().__init__(reason)
        self.delivery = delivery


def delivery_find_duplicate(*, source: str, sha256: str, external_id: str = "") -> Delivery | None:
    """The delivery these bytes (under any source slug or channel: the same report
    posted to /trivy/ and ingested with --source auto is one report), or this sender's
    delivery id for this source, arrived as first."""
    match = Q(sha256=sha256)
    if external_id:
        match |= Q(source=source, external_id=external_id)
    return Delivery.objects.filter(match).order_by("id").first()


def _more_context(duplicate: Delivery, source: str, image_hint: str) -> bool:
    """A rejected delivery sent again with what it lacked: an image, or a source slug."""
    if duplicate.status != Delivery.Status.REJECTED:
        return False
    new_hint = bool(image_hint) and image_hint != duplicate.image_hint
    new_source = source not in ("auto", duplicate.source)
    return new_hint or new_source


def _delivery_retry(
    duplicate: Delivery, *, source: str, image_hint: str, channel: str, headers: dict
) -> Delivery:
    """Take the rejected delivery up again with the new context (the bytes are the same;
    its headers keep what it was rejected for). The new sender's credential replaces the
    first one's: it sent the bytes too, and chose the context."""
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=duplicate.pk)
        resent = {
            "source": source,
            "image_hint": image_hint,
            "channel": channel,
            "rejected_for": locked.error[:300],
            "at": timezone.now().isoformat(),
        }
        kept = {k: v for k, v in locked.headers.items() if k not in CREDENTIAL_HEADERS}
        resent_list = [*locked.headers.get("resent", []), resent]
        locked.headers = {**kept, **credential_headers(headers), "resent": resent_list}
        if source != "auto":
            locked.source = source
        if image_hint:
            locked.image_hint = image_hint[:500]
        locked.status = Delivery.Status.QUEUED
        locked.error = ""
        locked.processed_at = None
        locked.enqueued_at = None
        locked.save(
            update_fields=[
                "headers", "source", "image_hint", "status", "error", "processed_at",
                "enqueued_at",
            ]
        )  # fmt: skip
    return locked


def delivery_store(
    *,
    source: str,
    body: bytes,
    external_id: str = "",
    content_type: str = "",
    headers: dict | None = None,
    image_hint: str = "",
    channel: str = "webhook",
    received_at: datetime | None = None,
) -> tuple[Delivery, bool]:
    """Keep ``body`` as received. Returns (delivery, created); a repeat returns the first.

    A repeat of a rejected delivery that brings what it lacked (an image hint, or a
    source slug other than ``auto``) takes that delivery up again: it is returned as
    created, queued, for the caller to process.
    ``received_at`` is when it arrived, when that was earlier (a body replayed from the spool).
    The body is kept byte for byte; the text beside it (ids, headers, the image
    hint) loses NUL and lone surrogates, which no database column can hold.
    """
    sha256 = hashlib.sha256(body).hexdigest()
    external_id = storable_text(external_id)[:200]
    content_type = storable_text(content_type)
    image_hint = storable_text(image_hint)
    headers = storable_json(headers or {})
    duplicate = delivery_find_duplicate(source=source, sha256=sha256, external_id=external_id)
    if duplicate is not None:
        if _more_context(duplicate, source, image_hint):
            retried = _delivery_retry(
                duplicate, source=source, image_hint=image_hint, channel=channel, headers=headers
            )
            return retried, True
        return duplicate, False
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                source=source,
                external_id=external_id,
                sha256=sha256,
                body_gz=Delivery.compress(body),
                size=len(body),
                content_type=content_type[:200],
                headers=headers,
                image_hint=image_hint[:500],
                channel=channel,
            )
            if received_at is not None:  # received_at is auto_now_add: set it afterwards
                Delivery.objects.filter(pk=delivery.pk).update(received_at=received_at)
                delivery.received_at = received_at
    except IntegrityError:  # the same body raced in through another process
        duplicate = delivery_find_duplicate(source=source, sha256=sha256, external_id=external_id)
        if duplicate is None:
            raise
        return duplicate, False
    return delivery, True


def _delivery_close(delivery: Delivery, status: str, reason: str) -> None:
    reason = storable_text(reason)  # messages may quote the report's own keys
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status, error=reason, processed_at=timezone.now()
    )
    delivery.status, delivery.error = status, reason


def delivery_reject(*, delivery: Delivery, reason: str) -> None:
    """The body cannot be used; ``reason`` says why (kept, shown, reprocessable)."""
    _delivery_close(delivery, Delivery.Status.REJECTED, reason)


def delivery_ignore(*, delivery: Delivery, reason: str) -> None:
    """The body is understood but asks for nothing (e.g. a failed-scan event)."""
    _delivery_close(delivery, Delivery.Status.IGNORED, reason)


def delivery_event_processed(*, delivery: Delivery, report_ids: list[int]) -> None:
    """An event delivery is done: it points at the report deliveries it produced."""
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        locked.headers = {**locked.headers, "report_deliveries": report_ids}
        locked.status = Delivery.Status.PROCESSED
        locked.error = ""
        locked.processed_at = timezone.now()
        locked.save(update_fields=["headers", "status", "error", "processed_at"])
    delivery.refresh_from_db()


def delivery_rejected(*, delivery: Delivery, reason: str) -> DeliveryRejected:
    """Reject the delivery (:func:`delivery_reject`); returns the exception that says so."""
    delivery_reject(delivery=delivery, reason=reason)
    return DeliveryRejected(delivery, reason)


def delivery_ingest(*, delivery: Delivery, parsed: Parsed) -> IngestResult | ReportIngestResult:
    """Ingest the parsed report of ``delivery`` and mark it processed."""
    scans, images, multi = parsed.scans, parsed.images, parsed.multi
    digest, full = parsed.findings_digest, parsed.full
    del parsed
    if multi and not scans:
        delivery_ignore(delivery=delivery, reason="the report names no image with a scan")
        return ReportIngestResult(delivery.pk, ())
    refused = sum(scan.refused for scan in scans)
    refusals = [reason for scan in scans for reason in scan.refusals][:REFUSAL_EXAMPLES]
    started = time.monotonic()
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        results = tuple(
            scan_ingest(
                parsed=parsed,
                image=image,
                delivery=locked,
                part=part,
                findings_digest=digest,
                parse_findings=full,
            )
            for part, (parsed, image) in enumerate(zip(scans, images, strict=True))
            if image is not None
        )
        locked.status = Delivery.Status.PROCESSED
        locked.error = ""
        locked.attempts += 1
        locked.processed_at = timezone.now()
        locked.refused, locked.refusals = refused, refusals
        locked.save(
            update_fields=["status", "error", "attempts", "processed_at", "refused", "refusals"]
        )
        for scan_id in [r.scan.pk for r in results if r.created]:
            transaction.on_commit(
                lambda scan_id=scan_id: scan_ingested.send(sender=Delivery, scan_id=scan_id),
                robust=True,
            )
    delivery.refresh_from_db()
    created = [r for r in results if r.created]
    if created:
        ingest_observe(
            delivery.source, time.monotonic() - started, sum(r.findings for r in created)
        )
    return ReportIngestResult(delivery.pk, results) if multi else results[0]
