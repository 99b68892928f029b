"""Findings' deadlines (``Finding.due_at``) from their owner's SLA policy.

The owning team's policy applies, else the default policy (``SlaPolicy.is_default``);
``remediator/teams/deadlines.py`` holds the rules. Callers refresh the findings whose
inputs changed: a scan's new findings, a KEV import's CVEs, a team's or policy's
findings when ownership or days change. Only rows whose deadline differs are written.
The findings are read as tuples (no model instances), in chunks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db.models import Q, QuerySet

from findings.bulk import in_ids
from findings.models import Finding, Scan
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
    "sla_clock_from",
    "due_at",
)
OPEN = (Finding.Status.OPEN, Finding.Status.IN_REMEDIATION)
"""The findings whose deadline is kept up to date (an accepted one's waits for its end)."""


def policy_terms() -> tuple[dict[int, Terms], Terms | None]:
    """Every policy's terms by id, and the default policy's (None: no default)."""
    policies = list(SlaPolicy.objects.all())
    default = next((policy.terms() for policy in policies if policy.is_default), None)
    return {policy.pk: policy.terms() for policy in policies}, default


def _changed(findings: QuerySet[Finding]) -> Iterator[tuple[int, datetime | None]]:
    terms_by_id, default = policy_terms()
    if not terms_by_id:  # no policy, no deadline: only the rows that still have one change
        findings = findings.filter(due_at__isnull=False)
    rows = findings.order_by().values_list(*_COLUMNS)
    for (
        pk,
        severity,
        first_seen,
        fixable_since,
        kev_due,
        policy_id,
        paused,
        restarted,
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
                restarted_at=restarted,
            )
        if due != current:
            yield pk, due


def due_dates_refresh(findings: QuerySet[Finding]) -> int:
    """Recompute the deadlines of ``findings``; the number of rows that changed.

    Rows that get the same deadline are written together, one UPDATE per deadline (a
    scan's new findings share a handful: one per severity), with the ids as one
    parameter (``in_ids``)."""
    by_due: dict[datetime | None, list[int]] = defaultdict(list)
    for pk, due in _changed(findings):
        by_due[due].append(pk)
    changed = 0
    for due, pks in by_due.items():
        for start in range(0, len(pks), BATCH):
            chunk = pks[start : start + BATCH]
            changed += Finding.objects.filter(pk__in=in_ids(chunk)).update(due_at=due)
    return changed


def scan_due_dates_refresh(*, scan: Scan) -> int:
    """After ``scan``: deadlines for its tag's open findings that have none yet (new ones)
    or whose fix was first reported by this scan (``fixable_since`` set to its time)."""
    findings = Finding.objects.filter(tag_id=scan.tag_id, status__in=OPEN).filter(
        Q(due_at__isnull=True) | Q(fixable_since=scan.scanned_at)
    )
    return due_dates_refresh(findings)


def vulnerabilities_due_dates_refresh(vulnerability_ids: Iterable[str]) -> int:
    """The open findings of these vulnerabilities (their KEV due date changed)."""
    ids = sorted(set(vulnerability_ids))
    changed = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        changed += due_dates_refresh(
            Finding.objects.filter(vulnerability_id__in=chunk, status__in=OPEN)
        )
    return changed


def policy_due_dates_refresh(*, policy_id: int) -> int:
    """The open findings held to this policy: its teams', and, for the default policy,
    the unowned ones and those of teams without a policy."""
    policy = SlaPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        return 0
    held = Q(repository__owner__sla_policy_id=policy_id)
    if policy.is_default:
        held |= Q(repository__owner__sla_policy__isnull=True)  # unowned too
    return due_dates_refresh(Finding.objects.filter(held, status__in=OPEN))


def team_due_dates_refresh(*, team_id: int) -> int:
    """The open findings of a team's images (its policy changed)."""
    return due_dates_refresh(Finding.objects.filter(repository__owner_id=team_id, status__in=OPEN))


def open_due_dates_refresh(*, missing_only: bool = False) -> int:
    """Every open finding (``manage.py deadlines_refresh``: after an upgrade, or to check);
    with ``missing_only`` those without a deadline (cheap: the (status, due_at) index)."""
    findings = Finding.objects.filter(status__in=OPEN)
    if missing_only:
        findings = findings.filter(due_at__isnull=True)
    return due_dates_refresh(findings)
