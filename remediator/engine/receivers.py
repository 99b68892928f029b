"""Signal receivers: quick, they only enqueue (or write one cache key)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from findings.models import Scan, ThreatIntel
from findings.signals import scan_ingested
from remediator.cluster.inventory import inventory_from_scan
from remediator.cluster.signals import sightings_changed
from remediator.engine.admission.cache import (
    admission_cache_bump,
    admission_cache_touch,
    admission_cache_touch_tag,
)
from remediator.engine.models import AdmissionPolicy, AuditEvent, RemediationAction
from remediator.engine.ownership_refresh import owners_refresh_sighted
from remediator.engine.services import scan_evaluate
from remediator.engine.services.deadlines import policy_due_dates_refresh, team_due_dates_refresh
from remediator.engine.tasks import due_dates_refresh_task, scan_evaluate_task
from remediator.intake.publish import BrokerUnavailable, broker_publish
from remediator.teams.models import SlaPolicy, Team

log = logging.getLogger(__name__)
STATUS_EVENTS = (AuditEvent.Kind.TRANSITION, AuditEvent.Kind.FINDING)
"""Audit kinds that mean an action's state or a finding's status changed."""


@receiver(scan_ingested, dispatch_uid="remediator.scan_evaluate")
def scan_ingested_evaluate(sender: Any, scan_id: int, **kwargs: Any) -> None:
    """A scan was committed: verify earlier actions and run the policy, in a worker; in
    this process when the broker does not take the task within its timeouts (a worker or
    ``manage.py ingest``, never a web request): no scan goes unjudged, nothing hangs."""
    try:
        broker_publish(scan_evaluate_task, args=[scan_id])
    except BrokerUnavailable as exc:
        log.warning(
            "scan %s: the broker did not take its policy evaluation (%s); evaluating it here",
            scan_id,
            exc,
        )
        scan_evaluate(scan_id=scan_id)


@receiver(scan_ingested, dispatch_uid="remediator.admission_inventory")
def scan_ingested_admission(sender: Any, scan_id: int, **kwargs: Any) -> None:
    """A scan was committed: admission answers from fresh facts of its image (the
    others' stay cached); the workloads a Kubernetes report names go into the inventory
    (one bulk upsert)."""
    scanned = (
        Scan.objects.filter(pk=scan_id)
        .values_list(
            "image__digest", "tag__repository__registry", "tag__repository__name", "tag__name"
        )
        .first()
    )
    if scanned is None:
        admission_cache_bump()
    else:
        digest, registry, name, tag = scanned
        admission_cache_touch(digest=digest, name=f"{registry}/{name}", tag=tag)
    try:
        inventory_from_scan(scan_id)
    except Exception:  # the inventory must never break ingest
        log.exception("inventory: scan %s not recorded", scan_id)


@receiver(sightings_changed, dispatch_uid="remediator.owners_sighted")
def sightings_changed_owners(sender: Any, repository_ids: list[int], **kwargs: Any) -> None:
    """Workloads showed repositories in new namespaces or with new labels: ownership
    rules on namespaces and labels may match them now."""
    owners_refresh_sighted(repository_ids)


@receiver(post_save, sender=AuditEvent, dispatch_uid="remediator.admission_status_changed")
def audit_event_saved(sender: Any, instance: AuditEvent, created: bool, **kwargs: Any) -> None:
    """Every action transition and finding decision is audited: a good place to learn
    that admission answers (risk acceptances, "rebuild #12 approved") must change. An
    action's transition changes the answers about its tag's images only (a burst of
    scans opens many actions); a finding decision, every image's."""
    if not created or instance.kind not in STATUS_EVENTS:
        return
    action_id = instance.action_id
    if instance.kind == AuditEvent.Kind.TRANSITION and action_id is not None:
        transaction.on_commit(lambda: _action_tag_touch(action_id))
    else:
        transaction.on_commit(admission_cache_bump)


def _action_tag_touch(action_id: int) -> None:
    tagged = (
        RemediationAction.objects.filter(pk=action_id)
        .values_list("tag_id", "tag__repository__registry", "tag__repository__name", "tag__name")
        .first()
    )
    if tagged is None:  # deleted meanwhile
        admission_cache_bump()
        return
    tag_id, registry, name, tag = tagged
    admission_cache_touch_tag(tag_id=tag_id, name=f"{registry}/{name}", tag=tag)


@receiver(post_save, sender=AdmissionPolicy, dispatch_uid="remediator.admission_policy_saved")
@receiver(post_delete, sender=AdmissionPolicy, dispatch_uid="remediator.admission_policy_gone")
@receiver(post_save, sender=ThreatIntel, dispatch_uid="remediator.admission_intel_saved")
def admission_inputs_changed(sender: Any, **kwargs: Any) -> None:
    transaction.on_commit(admission_cache_bump)


def _due_dates_refresh(*, policy_id: int | None = None, team_id: int | None = None) -> None:
    """In a worker; here when the broker does not take it (an admin save, apply_config)."""
    try:
        broker_publish(due_dates_refresh_task, args=[policy_id, team_id])
    except BrokerUnavailable as exc:
        log.warning("deadlines not queued (%s); recomputing them here", exc)
        if policy_id is not None:
            policy_due_dates_refresh(policy_id=policy_id)
        elif team_id is not None:
            team_due_dates_refresh(team_id=team_id)


@receiver(post_save, sender=SlaPolicy, dispatch_uid="remediator.sla_policy_saved")
def sla_policy_saved(sender: Any, instance: SlaPolicy, **kwargs: Any) -> None:
    """An SLA policy changed (admin, apply_config): its findings' deadlines follow."""
    pk = instance.pk
    transaction.on_commit(lambda: _due_dates_refresh(policy_id=pk))


@receiver(post_save, sender=Team, dispatch_uid="remediator.team_saved")
def team_saved(sender: Any, instance: Team, created: bool, **kwargs: Any) -> None:
    """A team may hold its images to another policy now: their deadlines follow."""
    if not created:
        pk = instance.pk
        transaction.on_commit(lambda: _due_dates_refresh(team_id=pk))
