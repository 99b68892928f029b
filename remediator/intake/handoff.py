"""The hand-off to the store: a recognised report's scans go to ``findings.ingest``, in one
transaction with the delivery marked processed; the engine hears of each new scan once
that transaction has committed (``findings.signals.scan_ingested``)."""

from __future__ import annotations

import time

from django.db import transaction
from django.utils import timezone

from findings.ingest import IngestResult, ReportIngestResult, scan_ingest
from findings.models import Delivery
from findings.parsers.screen import REFUSAL_EXAMPLES
from findings.signals import scan_ingested
from remediator.core.metrics import ingest_observe

from .recognise import Parsed
from .store import delivery_ignore


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
