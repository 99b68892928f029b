"""Which scanner has seen which finding (its witnesses), kept up to date by ingest.

A finding is fixed only on evidence: when no witness's newest successful scan of
the tag still lists it (``findings.status.findings_fixed_by``). A scanner that
never reported a finding is no witness, so its scans neither close nor vouch for
it. Each function here is one statement, whatever the size of the report.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from .models import FindingWitness, Scan, ScanFinding, Tag


def witnesses_saw(*, scan: Scan, finding_ids: list[int], newest: bool, prior: Scan | None) -> None:
    """``scan`` lists these findings. Its scanner becomes (or stays) their witness; when
    it is that scanner's newest scan of the tag the witness is present again, else (a late
    retry) a new witness starts absent since the scanner's newest scan ``prior``."""
    if newest:
        FindingWitness.objects.filter(
            finding_id__in=finding_ids, scanner_key=scan.scanner_key
        ).update(present=True, last_scan=scan, absent_since_scan=None, scanner=scan.scanner)
    FindingWitness.objects.bulk_create(
        [
            FindingWitness(
                finding_id=finding_id,
                scanner_key=scan.scanner_key,
                scanner=scan.scanner,
                first_scan=scan,
                last_scan=scan,
                present=newest,
                absent_since_scan=None if newest else prior,
            )
            for finding_id in finding_ids
        ],
        ignore_conflicts=True,
    )


def witnesses_lost(*, scan: Scan, tag: Tag) -> int:
    """The scanner's newest scan of ``tag`` no longer lists these findings: its witness
    is absent since ``scan``. Returns how many witnesses changed."""
    listed = ScanFinding.objects.filter(scan=scan, finding_id=OuterRef("finding_id"))
    return (
        FindingWitness.objects.filter(finding__tag=tag, scanner_key=scan.scanner_key, present=True)
        .exclude(Exists(listed))
        .update(present=False, absent_since_scan=scan)
    )
