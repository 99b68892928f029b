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

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from .bulk import in_ids
from .justifications import JUSTIFICATIONS
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


def findings_seen_again(*, finding_ids: Sequence[int], scan: Scan) -> int:
    """The newest scan lists these findings again: reopen the fixed ones among them and
    count it. Returns how many were reopened."""
    if not finding_ids:
        return 0
    return Finding.objects.filter(pk__in=in_ids(finding_ids), status=S.FIXED).update(
        status=S.OPEN,
        reopened_count=F("reopened_count") + 1,
        reopened_at=scan.scanned_at,
        fixed_at=None,
        fixed_by_scan=None,
    )


def new_finding_status(*, newer: Scan | None, scanned_at: datetime) -> tuple[str, Scan | None]:
    """(status, the scan that fixed it) of a finding first seen at ``scanned_at``: open,
    unless it was seen only in a late scan older than its scanner's newest scan of the tag
    (``newer``), which does not list it: then it is fixed already, by ``newer``."""
    if newer is not None and newer.scanned_at > scanned_at:
        return S.FIXED, newer
    return S.OPEN, None


def findings_fixed_by(*, scan: Scan, tag: Tag, candidates: Sequence[int] | None = None) -> int:
    """Close, naming ``scan``, the tag's open findings that ``scan``'s scanner has
    witnessed and that no witness still lists: every scanner that reported them has a
    newest scan without them. Call it after the witnesses are up to date
    (``findings.evidence``); ``candidates``, when given, are the only findings whose
    witnesses changed. Returns how many were closed."""
    findings = Finding.objects.filter(tag=tag)
    if candidates is not None:
        if not candidates:
            return 0
        findings = findings.filter(pk__in=in_ids(candidates))
    return (
        findings.filter(
            status__in=CLOSABLE,
            witnesses__scanner_key=scan.scanner_key,
            witnesses__present=False,
        )
        .exclude(witnesses__present=True)
        .update(
            status=S.FIXED,
            fixed_by_scan=scan,
            fixed_at=scan.scanned_at,
            investigating_since=None,
        )
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
    *,
    finding_id: int,
    to: str,
    reason: str,
    until: datetime | None = None,
    justification: str = "",
) -> tuple[Finding, str]:
    """open -> accepted (until a date, or for good) | false_positive (with an OpenVEX
    ``justification`` or none), with a reason; or accepted | false_positive -> open.
    Any decision ends an investigation. Locks the row; call it inside the transaction
    that records who did it. Returns (finding, status before)."""
    reason = reason.strip()
    if to not in (S.OPEN, *DECIDED):
        raise StatusNotAllowed(f"people cannot set a finding to {to}", code="invalid")
    if justification and (to != S.FALSE_POSITIVE or justification not in JUSTIFICATIONS):
        raise StatusNotAllowed(
            f"justification {justification!r}: only a false positive takes one, one of "
            f"{', '.join(JUSTIFICATIONS)}",
            code="invalid",
        )
    if to != S.OPEN and not reason:
        raise StatusNotAllowed("a reason is required", code="invalid")
    if until is not None and until <= timezone.now():
        raise StatusNotAllowed("the acceptance must end in the future", code="until_past")
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
        finding.vex_justification = justification
        finding.decided_at = None if to == S.OPEN else timezone.now()
        finding.investigating_since = None
        finding.save(
            update_fields=[
                "status",
                "status_reason",
                "accepted_until",
                "vex_justification",
                "decided_at",
                "investigating_since",
            ]
        )
    return finding, before


def finding_investigate(*, finding_id: int, reason: str, stop: bool = False) -> Finding:
    """An open finding is under investigation (since now, with a reason) or, ``stop``,
    no longer. The status stays open. Locks the row; call it inside the transaction
    that records who did it."""
    reason = reason.strip()
    if not stop and not reason:
        raise StatusNotAllowed("a reason is required", code="invalid")
    with transaction.atomic():
        finding = Finding.objects.select_for_update().get(pk=finding_id)
        if finding.status != S.OPEN:
            raise StatusNotAllowed(
                f"finding is {finding.status}; only open findings are investigated",
                code="wrong_state",
            )
        if stop and finding.investigating_since is None:
            raise StatusNotAllowed("finding is not under investigation", code="wrong_state")
        finding.investigating_since = None if stop else timezone.now()
        finding.status_reason = reason
        finding.save(update_fields=["investigating_since", "status_reason"])
    return finding


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
            status=S.OPEN, accepted_until=None, decided_at=None
        )
    )
