"""Services for received bodies: store first, then process (parse + ingest) or reject.

Nothing a sender posts is lost: the body is stored before it is parsed, and a
body that cannot be used is kept as a rejected delivery with the reason.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from remediator.core.metrics import ingest_observe
from remediator.core.storable import storable_json, storable_text

from .credentials import CREDENTIAL_HEADERS, credential_headers, scan_as_credential_allows
from .events import event_handler_for
from .ingest import IngestResult, ReportIngestResult, scan_ingest
from .models import Delivery, Scan
from .parsers import MULTI_IMAGE, load_body, parse, parse_all, report_head
from .parsers.base import ImageRef, ParsedScan, ParseError
from .parsers.images import parse_image_reference
from .parsers.screen import REFUSAL_EXAMPLES
from .publish import BrokerUnavailable, broker_publish
from .signals import scan_ingested

logger = logging.getLogger(__name__)


_UNREAD = object()


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


IMAGE_HEADER = "X-Remediator-Image"
"""The webhook header that names the image, like ``?image=`` (see remediator/api/webhooks.py)."""
_IMAGE_FIELDS = {
    "aqua": '"image" (or "imageName") and "digest"',
    "generic": '"imageName" (with "tag" and "digest")',
}


def _how_to_name(parsed: ParsedScan) -> str:
    ways = (
        "name it with ?image=registry/repo:tag on the webhook URL, "
        f"the header {IMAGE_HEADER}: registry/repo:tag, --image on the command line"
    )
    fields = _IMAGE_FIELDS.get(parsed.source)
    return f"{ways}, or add {fields} to the body" if fields else ways


def resolve_image(parsed: ParsedScan, hint: str) -> ImageRef:
    """The image a report is about: an explicit hint wins, the report fills gaps."""
    if not hint:
        if parsed.image is None:
            raise ParseError(f"{parsed.source}: the report names no image; {_how_to_name(parsed)}")
        return parsed.image
    given = parse_image_reference(hint)
    found = parsed.image
    return ImageRef(
        registry=given.registry,
        repository=given.repository,
        tag=given.tag or (found.tag if found else ""),
        digest=given.digest or (found.digest if found else ""),
    )


def delivery_process(
    *, delivery: Delivery, document: object = _UNREAD
) -> IngestResult | ReportIngestResult:
    """Parse and ingest a stored delivery. Idempotent: a processed one is not redone.

    ``document`` is the already-decoded body, when the caller has it. A report of
    several images (``MULTI_IMAGE`` formats) becomes one scan per image, in one
    transaction, and returns a ReportIngestResult; ``?image=`` does not apply to it.
    """
    if document is _UNREAD:
        try:
            document = load_body(delivery.source, delivery.body)
        except ParseError as exc:
            delivery_reject(delivery=delivery, reason=str(exc))
            raise DeliveryRejected(delivery, str(exc)) from exc
    return _delivery_ingest(delivery=delivery, parsed=_delivery_parse(delivery, document))


@dataclass(frozen=True)
class Parsed:
    scans: tuple[ParsedScan, ...]
    images: list[ImageRef | None]
    multi: bool
    """The report holds several images (one scan each)."""
    findings_digest: str = ""
    full: Callable[[], ParsedScan] | None = None
    """Set when ``scans`` holds the report without its findings, because they are the
    same as its scanner's newest scan of the tag: parses them, should that change."""


def _same_as_newest(head: ParsedScan, image: ImageRef, digest: str) -> bool:
    """The scanner's newest successful scan of the tag had exactly these findings."""
    newest = (
        Scan.objects.filter(
            tag__repository__registry=image.registry,
            tag__repository__name=image.repository,
            tag__name=image.tag,
            scanner_key=head.scanner_key,
            failure="",
        )
        .order_by("-scanned_at", "-id")
        .values_list("findings_digest", flat=True)
        .first()
    )
    return bool(digest) and newest == digest


def _delivery_parse(delivery: Delivery, document: object) -> Parsed:
    """The report's scans and the image of each; a body that is no usable report rejects
    the delivery (DeliveryRejected). An unchanged re-scan is not parsed past its head."""
    try:
        quick = report_head(delivery.source, document)
        if quick is not None and not quick[0].failure:
            head, digest = quick
            head = scan_as_credential_allows(delivery, head)
            image = resolve_image(head, delivery.image_hint)
            if _same_as_newest(head, image, digest):
                source = delivery.source
                return Parsed(
                    (head,),
                    [image],
                    False,
                    digest,
                    lambda: scan_as_credential_allows(delivery, parse(source, document)),
                )
        scans = tuple(
            scan_as_credential_allows(delivery, scan)
            for scan in parse_all(delivery.source, document)
        )
        multi = len(scans) != 1 or scans[0].source in MULTI_IMAGE
        images = (
            [s.image for s in scans] if multi else [resolve_image(scans[0], delivery.image_hint)]
        )
    except ParseError as exc:
        delivery_reject(delivery=delivery, reason=str(exc))
        raise DeliveryRejected(delivery, str(exc)) from exc
    return Parsed(scans, images, multi, quick[1] if quick and not multi else "")


def _delivery_ingest(*, delivery: Delivery, parsed: Parsed) -> IngestResult | ReportIngestResult:
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


def delivery_in_progress(*, delivery_id: int) -> bool:
    """True when another worker holds the delivery's row lock (it is ingesting it now).

    A second copy of the task (the sweep re-enqueues after DELIVERY_REQUEUE_AFTER)
    then returns at once instead of parsing the body and waiting for the lock. Only
    where the database can skip locked rows (PostgreSQL); SQLite serialises writers.
    """
    if not connection.features.has_select_for_update_skip_locked:
        return False
    with transaction.atomic():
        free = Delivery.objects.select_for_update(skip_locked=True).filter(pk=delivery_id)
        return not free.exists()


class DeliveryBusy(Exception):
    """The delivery is queued already; it cannot be reprocessed until it is done."""


def delivery_run(*, delivery: Delivery) -> None:
    """Process a stored delivery whatever it holds: a report, or an event that a
    registered handler claims (Harbor's, see ``findings.events``).

    Raises DeliveryRejected (permanent, recorded) or a transient error
    (ProviderError with permanent=False, database OperationalError).
    """
    try:
        document = load_body(delivery.source, delivery.body)
    except ParseError as exc:
        delivery_reject(delivery=delivery, reason=str(exc))
        raise DeliveryRejected(delivery, str(exc)) from exc
    handler = event_handler_for(delivery.source, document)
    if handler is not None:
        handler.process(delivery=delivery, document=document)
        return
    parsed = _delivery_parse(delivery, document)
    del document  # the decoded body is not needed while the findings are written
    _delivery_ingest(delivery=delivery, parsed=parsed)


def delivery_enqueue(*, delivery_id: int, backoff: bool = True) -> bool:
    """Hand a delivery to the broker now, within bounded time (``publish.py``). False
    (logged) when the broker did not take it: the delivery stays queued and the periodic
    sweep (which asks even within BROKER_BACKOFF: ``backoff=False``) hands it over later."""
    from .tasks import delivery_process_task

    # Written before the publish: an UPDATE after it could hold the row's lock just when
    # the worker asks whether another worker is ingesting it (delivery_in_progress), and
    # the task would wrongly answer "busy" and leave the delivery to the sweep.
    queued = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.QUEUED)
    queued.update(enqueued_at=timezone.now())
    try:
        broker_publish(delivery_process_task, args=[delivery_id], backoff=backoff)
    except BrokerUnavailable as exc:
        queued.update(enqueued_at=None)  # never reached a worker: the next sweep takes it
        logger.warning("delivery %s not enqueued (left for the sweep): %s", delivery_id, exc)
        return False
    return True


def delivery_enqueue_on_commit(*, delivery_id: int) -> None:
    transaction.on_commit(lambda: delivery_enqueue(delivery_id=delivery_id))


def delivery_reprocess(*, delivery: Delivery) -> Delivery:
    """Queue a finished delivery again (e.g. after a parser fix); DeliveryBusy if queued."""
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.status == Delivery.Status.QUEUED:
            raise DeliveryBusy(f"delivery {locked.pk} is already queued")
        locked.status = Delivery.Status.QUEUED
        locked.error = ""
        locked.processed_at = None
        locked.enqueued_at = None
        locked.save(update_fields=["status", "error", "processed_at", "enqueued_at"])
        delivery_enqueue_on_commit(delivery_id=locked.pk)
    return locked


def delivery_sweep(*, older_than: float, requeue_after: float, limit: int = 500) -> list[int]:
    """Enqueue queued deliveries nobody handed to a worker, or whose task got lost.

    Picks deliveries queued for more than ``older_than`` seconds that were never
    enqueued (broker down at the time) or were enqueued more than
    ``requeue_after`` seconds ago (worker killed). Returns the ids enqueued.
    """
    now = timezone.now()
    stale = (
        Delivery.objects.filter(
            status=Delivery.Status.QUEUED,
            received_at__lt=now - timedelta(seconds=older_than),
        )
        .filter(
            Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - timedelta(seconds=requeue_after))
        )
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    enqueued = []
    for delivery_id in list(stale):
        if not delivery_enqueue(delivery_id=delivery_id, backoff=False):
            break
        enqueued.append(delivery_id)
    return enqueued
