"""Process a stored delivery again, asked for by a person: the intake's reprocess
(queued again, ingested idempotently: the same report changes no finding twice),
checked and audited."""

from __future__ import annotations

from django.db import transaction

from findings.models import Delivery
from remediator.core import permissions
from remediator.engine.audit import audit_record
from remediator.engine.models import AuditEvent
from remediator.intake.queue import delivery_reprocess

from .actions import ActionNotAllowed


def delivery_reprocess_by(*, delivery_id: int, user) -> Delivery:
    """Queue delivery ``delivery_id`` again for ``user`` and write the audit event.

    ActionNotAllowed (permission_denied) without the permission to change deliveries;
    Delivery.DoesNotExist for an unknown id; intake's DeliveryBusy while it is queued.
    """
    if not (user and user.is_authenticated and user.has_perm(permissions.CHANGE_DELIVERY)):
        raise ActionNotAllowed(
            f"reprocessing a delivery needs the permission {permissions.CHANGE_DELIVERY}",
            code="permission_denied",
        )
    with transaction.atomic():
        before = Delivery.objects.only("id", "status").get(pk=delivery_id)
        delivery = delivery_reprocess(delivery=before)
        audit_record(
            kind=AuditEvent.Kind.TRANSITION,
            actor=user,
            obj=delivery,
            from_state=before.status,
            to_state=delivery.status,
            message=f"delivery {delivery.pk} queued to be processed again",
        )
    return delivery
