"""VEX documents through the one way in: checked at post time (``vex_check``), then
imported by ``delivery_process`` (``vex_delivery_process``): parsed whole first, then
the import and the delivery's state written in one transaction, so a document that
fails anywhere writes nothing and is kept as a rejected delivery with the reason."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from findings.models import Delivery
from findings.parsers.base import ParseError
from findings.parsers.vex import parse_vex
from findings.vex.imports import VexImportResult, vex_document_import

from .recognise import Unusable
from .store import delivery_rejected

INVALID = "invalid_vex"
"""The API's error code for a body that is JSON but no usable VEX document."""


def vex_check(document: object) -> None:
    """Unusable unless ``document`` reads as a VEX document (pure: no database)."""
    try:
        parse_vex(document)
    except ParseError as exc:
        raise Unusable(INVALID, str(exc)) from None


def vex_delivery_process(*, delivery: Delivery, document: object) -> VexImportResult:
    """Import the VEX document of ``delivery`` and mark it processed; DeliveryRejected
    (recorded) when it is no usable VEX document."""
    try:
        parsed = parse_vex(document)
    except ParseError as exc:
        raise delivery_rejected(delivery=delivery, reason=str(exc)) from exc
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        result = vex_document_import(delivery=locked, document=parsed)
        locked.status = Delivery.Status.PROCESSED
        locked.error = ""
        locked.attempts += 1
        locked.processed_at = timezone.now()
        locked.save(update_fields=["status", "error", "attempts", "processed_at"])
    delivery.refresh_from_db()
    return result
