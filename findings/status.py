"""The one module that changes a finding's status.

Scans move findings between open and fixed (ingest calls the first three; a
finding is fixed only when every scanner that reported it, its witnesses, has a
newer successful scan without it: ``findings.evidence`` keeps the witnesses);
the engine moves them into and out of remediation; people decide about them
(accepted, false positive, back to open), and accepted risks expire. Each rule
about which status may follow which lives here; who may do it, and the audit
trail, stay with the callers.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import Finding, Scan, Tag

S = Finding.Status
CLOSABLE = (S.OPEN, S.IN_REMEDIATION, S.ACCEPTED)
"""What a newer scan that no longer lists a finding closes as fixed."""
DECIDED = (S.ACCEPTED, S.FALSE_POSITIVE)
"""What people decide; only an open finding can be decided, only a decided one reopened."""


class StatusNotAllowed(ValueError):
    """The change is refused; ``code``: ``wrong_state`` or ``invalid``."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


# --- scans: ingest


def finding_seen_again(finding: Finding, scan: Scan) -> bool:
    """The newest scan lists a fixed finding again: reopen it (in memory; the caller
    writes the row). True when it was reopened."""
    if finding.status != S.FIXED:
        return False
    finding.status = S.OPEN
    finding.reopened_count += 1
    finding.reopened_at = scan.scanned_at
    finding.fixed_at = None
    finding.fixed_by_scan = None
    return True


def finding_seen_only_before(finding: Finding, newer: Scan) -> None:
    """A new finding seen only in a late scan, older than its scanner's newest scan of
    the tag (``newer``), which does not list it: it is fixed already, by ``newer``
    (in memory)."""
    finding.status = S.FIXED
    finding.fixed_by_scan = newer
    finding.fixed_at = newer.scanned_at


def findings_fixed_by(*, scan: Scan, tag: Tag) -> int:
    """Close, naming ``scan``, the tag's open findings that ``scan``'s scanner has
    witnessed and that no witness still lists: every scanner that reported them has a
    newest scan without them. Call it after the witnesses are up to date
    (``findings.evidence``). Returns how many were closed."""
    return (
        Finding.objects.filter(
            tag=tag,
            status__in=CLOSABLE,
            witnesses__scanner_key=scan.scanner_key,
            witnesses__present=False,
        )
        .exclude(witnesses__present=True)
        .update(status=S.FIXED, fixed_by_scan=scan, fixed_at=scan.scanned_at)
    )


# --- the engine: rebuilds under way


def findings_remediation_start(findings: QuerySet[Finding]) -> int:
    """Open findings covered by a rebuild under way are in remediation."""
    return findings.filter(status=S.OPEN).update(status=S.IN_REMEDIATION)


def findings_remediation_end(findings: QuerySet[Finding]) -> int:
    """The rebuild ended without fixing them: back to open (a fixed finding was
    closed by a scan, not here)."""
    return findings.filter(status=S.IN_REMEDIATION).update(status=S.OPEN)


# --- people


def finding_decide(
    *, finding_id: int, to: str, reason: str, until: datetime | None = None
) -> tuple[Finding, str]:
    """open -> accepted (until a date, or for good) | false_positive, with a reason; or
    accepted | false_positive -> open. Locks the row; call it inside the transaction
    that records who did it. Returns (finding, status before)."""
    reason = reason.strip()
    if to not in (S.OPEN, *DECIDED):
        raise StatusNotAllowed(f"people cannot set a finding to {to}", code="invalid")
    if to != S.OPEN and not reason:
        raise StatusNotAllowed("a reason is required", code="invalid")
    if until is not None and until <= timezone.now():
        raise StatusNotAllowed("the acceptance must end in the future", code="invalid")
    with transaction.atomic():
        finding = Finding.objects.select_for_update().get(pk=finding_id)
        allowed_from = DECIDED if to == S.OPEN else (S.OPEN,)
        if finding.status not in allowed_from:
            raise StatusNotAllowed(
                f"finding is {finding.status}; only {'/'.join(allowed_from)} findings can "
                f"become {to}",
                code="wrong_state",
            )
        before = finding.status
        finding.status = to
        finding.status_reason = reason
        finding.accepted_until = until if to == S.ACCEPTED else None
        finding.save(update_fields=["status", "status_reason", "accepted_until"])
    return finding, before


def findings_acceptance_expired(*, now: datetime) -> list[int]:
    """Ids of accepted findings whose acceptance has ended (see ``finding_acceptance_end``)."""
    return list(
        Finding.objects.filter(status=S.ACCEPTED, accepted_until__lte=now).values_list(
            "pk", flat=True
        )
    )


def finding_acceptance_end(*, finding_id: int, now: datetime) -> bool:
    """Reopen one accepted finding whose acceptance ended; False if it changed meanwhile."""
    return bool(
        Finding.objects.filter(pk=finding_id, status=S.ACCEPTED, accepted_until__lte=now).update(
            status=S.OPEN, accepted_until=None
        )
    )
