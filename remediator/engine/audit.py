"""Append-only audit trail: one function writes every AuditEvent.

Its texts come from outside too (a review's user and image names, a provider's error,
a break-glass reason): ``audit_storable`` makes every one storable (no NUL, no lone
surrogate, which PostgreSQL refuses) and keeps the rest as it came, as data.
"""

from __future__ import annotations

from typing import Any

from remediator.core.storable import storable_json, storable_text
from remediator.integrations.http import CallRecord

from .models import AuditEvent, RemediationAction

TEXT_FIELDS = ("actor_label", "object_type", "object_id", "from_state", "to_state", "message")


def audit_storable(event: AuditEvent) -> AuditEvent:
    """The event with every text field and its data storable (in place; returned)."""
    for name in TEXT_FIELDS:
        setattr(event, name, storable_text(getattr(event, name) or ""))
    event.data = storable_json(event.data or {})
    return event


def audit_record(
    *,
    kind: str,
    message: str = "",
    actor: Any = None,
    actor_label: str = "",
    action: RemediationAction | None = None,
    obj: Any = None,
    from_state: str = "",
    to_state: str = "",
    data: dict | None = None,
) -> AuditEvent:
    """Write one event. ``obj`` (any model instance) names what it is about."""
    target = obj if obj is not None else action
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    event = AuditEvent(
        kind=kind,
        message=message,
        actor=actor,
        actor_label=actor_label or (actor.get_username() if actor else "system"),
        action=action,
        object_type=target._meta.model_name if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        from_state=from_state,
        to_state=to_state,
        data=data or {},
    )
    audit_storable(event).save()
    return event


def audit_call(record: CallRecord) -> None:
    """Every call an integration makes to an outside system (registered at start-up)."""
    audit_storable(provider_call_event(record)).save()


def provider_call_event(record: CallRecord) -> AuditEvent:
    """The (unsaved) event of one outside call: admission writes it off the request path."""
    return AuditEvent(
        kind="provider_call",
        actor_label=f"provider:{record.provider}",
        message=f"{record.method} {record.url} -> {record.status or record.error}"
        + (f" (rate limited: waiting {record.wait_s:.0f}s)" if record.wait_s else ""),
        data={
            "provider": record.provider,
            "method": record.method,
            "url": record.url,
            "status": record.status,
            "duration_ms": record.duration_ms,
            "error": record.error,
            "wait_s": record.wait_s,
        },
    )
