"""Findings' deadlines (``Finding.due_at``) from their owner's SLA policy.

The owning team's policy applies, else the default policy (``SlaPolicy.is_default``);
``remediator/teams/deadlines.py`` holds the rules. Callers refresh the findings whose
inputs changed: a scan's new findings, a KEV import's CVEs, a team's or policy's
findings when ownership or days change. Only rows whose deadline differs are written.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import QuerySet

from findings.models import Finding
from remediator.teams.deadlines import Terms, due_at
from remediator.teams.models import SlaPolicy

BATCH = 2000
_COLUMNS = (
    "pk",
    "severity",
    "first_seen",
    "fixable_since",
    "vulnerability__intel__kev_due_date",
    "repository__owner__sla_policy_id",
    "sla_paused_seconds",
    "due_at",
)


def policy_terms() -> tuple[dict[int, Terms], Terms | None]:
    """Every policy's terms by id, and the default policy's (None: no default)."""
    policies = list(SlaPolicy.objects.all())
    default = next((policy.terms() for policy in policies if policy.is_default), None)
    return {policy.pk: policy.terms() for policy in policies}, default


def _changed(findings: QuerySet[Finding]) -> Iterator[tuple[int, datetime | None]]:
    terms_by_id, default = policy_terms()
    rows = findings.order_by().values_list(*_COLUMNS)
    for (
        pk,
        severity,
        first_seen,
        fixable_since,
        kev_due,
        policy_id,
        paused,
        current,
    ) in rows.iterator(chunk_size=BATCH):
        terms = terms_by_id.get(policy_id, default)
        due = None
        if terms is not None:
            due = due_at(
                terms,
                severity=severity,
                detected_at=first_seen,
                fixable_since=fixable_since,
                kev_due_date=kev_due,
                paused_seconds=paused,
            )
        if due != current:
            yield pk, due


def due_dates_refresh(findings: QuerySet[Finding]) -> int:
    """Recompute the deadlines of ``findings``; the number of rows that changed."""
    changed = 0
    batch: list[Finding] = []
    for pk, due in _changed(findings):
        batch.append(Finding(pk=pk, due_at=due))
        if len(batch) >= BATCH:
            changed += Finding.objects.bulk_update(batch, ["due_at"])
            batch = []
    if batch:
        changed += Finding.objects.bulk_update(batch, ["due_at"])
    return changed
