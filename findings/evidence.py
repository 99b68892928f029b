"""Which scanner has seen which finding (its witnesses), kept up to date by ingest.

A finding is fixed only on evidence: when no witness's newest successful scan of
the tag still lists it (``findings.status.findings_fixed_by``). A scanner that
never reported a finding is no witness, so its scans neither close nor vouch for
it.

A witness row changes only when its presence does (a run): it is created when its
scanner first lists the finding, turns absent when that scanner's newest scan no
longer lists it, present again when one does. While present, the scan that last
listed the finding is the scanner's stream head (``ScannerStream``), so an
unchanged re-scan writes no witness row. Each function here is a fixed number of
statements, whatever the size of the report.
"""

from __future__ import annotations

from collections.abc import Collection

from .bulk import in_ids, rows_insert
from .models import Finding, FindingWitness, Scan, ScannerStream, Tag


def witnesses_of(*, tag: Tag, scanner_key: str) -> dict[int, bool]:
    """{finding id: present} for the tag's witnesses of this scanner."""
    return dict(
        FindingWitness.objects.filter(finding__tag=tag, scanner_key=scanner_key).values_list(
            "finding_id", "present"
        )
    )


def witnesses_record(
    *,
    scan: Scan,
    listed: Collection[int],
    known: dict[int, bool],
    newest: bool,
    prior: Scan | None,
    complete: bool = True,
) -> list[int]:
    """``scan`` lists the findings ``listed``; ``known`` is ``witnesses_of`` before it.

    Its scanner becomes the witness of those it had not reported (present when ``scan``
    is its newest scan of the tag; else, a late retry, absent since ``prior``). When it
    is the newest: absent witnesses it lists are present again, and present ones it no
    longer lists are absent since ``scan``, their last listing being ``prior``.
    An incomplete ``scan`` (findings were refused at the parser boundary) turns no witness
    absent: what it does not list may be what it refused.
    Returns the ids of the findings whose witness turned absent."""
    rows_insert(
        FindingWitness._meta.db_table,
        ("finding_id",),
        [(fid,) for fid in listed if fid not in known],
        same={
            "scanner_key": scan.scanner_key,
            "scanner": scan.scanner,
            "first_scan_id": scan.pk,
            "last_scan_id": scan.pk,
            "present": newest,
            "absent_since_scan_id": None if newest or prior is None else prior.pk,
        },
    )
    if not newest:
        return []
    back = [fid for fid in listed if known.get(fid) is False]
    if back:
        FindingWitness.objects.filter(
            finding_id__in=in_ids(back), scanner_key=scan.scanner_key
        ).update(present=True, last_scan=scan, absent_since_scan=None, scanner=scan.scanner)
    if not complete:
        return []
    listed_set = listed if isinstance(listed, set | frozenset) else set(listed)
    lost = [fid for fid, present in known.items() if present and fid not in listed_set]
    if lost:
        FindingWitness.objects.filter(
            finding_id__in=in_ids(lost), scanner_key=scan.scanner_key
        ).update(present=False, absent_since_scan=scan, last_scan=prior)
        if prior is not None:  # the finding's stored last sighting: prior, if newer
            Finding.objects.filter(pk__in=in_ids(lost), last_seen__lt=prior.scanned_at).update(
                last_seen=prior.scanned_at, last_scan=prior
            )
    return lost


def stream_advance(*, scan: Scan, tag: Tag) -> None:
    """``scan`` is its scanner's newest successful scan of ``tag``: the stream head."""
    ScannerStream.objects.update_or_create(
        tag=tag,
        scanner_key=scan.scanner_key,
        defaults={"scan": scan, "scanned_at": scan.scanned_at},
    )
