"""Checklist items about admission control: policies, and whether the webhook is called."""

from __future__ import annotations

from django.urls import reverse
from django.utils.timesince import timesince

from remediator.core.secrets import MissingSecret, read_secret
from remediator.engine.models import AdmissionPolicy, AuditEvent

from .items import Item, Status

AREA = "Admission control"


def admission_items() -> list[Item]:
    enabled = AdmissionPolicy.objects.filter(enabled=True)
    count = enabled.count()
    enforcing = enabled.filter(mode=AdmissionPolicy.Mode.ENFORCE).count()
    add = reverse("admin:remediator_admissionpolicy_add")
    if not count:
        policies = Item(
            key="admission-policies",
            area=AREA,
            title="Admission policies",
            status=Status.WARNING,
            detail="No admission policy: a fresh install denies nothing at admission.",
            fix="add one (e.g. enforce, critical, fixable) in the admin",
            fix_url=add,
        )
    else:
        policies = Item(
            key="admission-policies",
            area=AREA,
            title="Admission policies",
            status=Status.OK,
            detail=f"{count} enabled ({enforcing} enforce, {count - enforcing} warn).",
        )
    last = (
        AuditEvent.objects.filter(kind=AuditEvent.Kind.ADMISSION)
        .order_by("-id")
        .values_list("created_at", flat=True)
        .first()
    )
    try:
        token = "set" if read_secret("ADMISSION_TOKEN", required=False) else "not set"
    except MissingSecret:
        token = "unreadable (ADMISSION_TOKEN_FILE)"
    if last is None:
        webhook = Item(
            key="admission-webhook",
            area=AREA,
            title="Admission webhook",
            status=Status.WARNING,
            detail=f"Never called: no cluster asks before running images. ADMISSION_TOKEN {token}.",
            fix="helm install remediator deploy/helm/remediator (its ValidatingWebhook"
            "Configuration calls /api/v1/admission/validate with ADMISSION_TOKEN; "
            "docs/kubernetes.md)",
        )
    else:
        webhook = Item(
            key="admission-webhook",
            area=AREA,
            title="Admission webhook",
            status=Status.OK,
            detail=f"Last review {timesince(last)} ago. ADMISSION_TOKEN {token}.",
        )
    return [policies, webhook]
