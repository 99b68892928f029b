"""Named reads of which scans saw which findings (``ScanFindingSet``) and of the live
last sighting of a witness (``ScannerStream``)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator

from django.db.models import OuterRef, QuerySet, Subquery

from findings.bulk import in_ids
from findings.models import Finding, FindingWitness, Scan, ScanFindingSet, ScannerStream
from findings.scansets import decode_ids

SEEN_BY_WALK = 2000
"""At most this many of a tag's scans are opened to list the scans that saw a finding."""


def scan_finding_ids(scan_id: int) -> list[int]:
    """The sorted ids of the findings that scan ``scan_id`` listed (none for a failed scan)."""
    blob = ScanFindingSet.objects.filter(scan_id=scan_id).values_list("ids", flat=True).first()
    return decode_ids(blob)


def scan_finding_id_sets(scan_ids: Iterable[int]) -> dict[int, list[int]]:
    """For each of ``scan_ids``: the sorted ids of the findings it listed."""
    wanted = list(scan_ids)
    found: dict[int, list[int]] = {pk: [] for pk in wanted}
    rows = ScanFindingSet.objects.filter(scan_id__in=in_ids(wanted)).values_list("scan_id", "ids")
    for scan_id, blob in rows:
        found[scan_id] = decode_ids(blob)
    return found


def findings_seen_by(queryset: QuerySet[Finding], scan_id: int) -> QuerySet[Finding]:
    """``queryset`` narrowed to the findings that scan ``scan_id`` listed."""
    return queryset.filter(pk__in=in_ids(scan_finding_ids(scan_id)))


def _contains(ids: list[int], wanted: int) -> bool:
    at = bisect_left(ids, wanted)
    return at < len(ids) and ids[at] == wanted


def scan_ids_that_saw(finding: Finding, *, limit: int = 50) -> list[int]:
    """The ids of the newest ``limit`` scans of the finding's tag that listed it."""
    candidates = (
        Scan.objects.filter(tag_id=finding.tag_id, scanned_at__gte=finding.first_seen)
        .exclude(failure__gt="")
        .order_by("-scanned_at", "-id")
        .values_list("pk", "finding_set__ids")[:SEEN_BY_WALK]
    )
    found = [pk for pk, blob in _iter(candidates) if _contains(decode_ids(blob), finding.pk)]
    return found[:limit]


def scans_that_saw(finding: Finding, *, limit: int = 50) -> list[Scan]:
    """The newest ``limit`` scans of the finding's tag that listed it, newest first."""
    found = scan_ids_that_saw(finding, limit=limit)
    by_pk = Scan.objects.select_related("tag").defer("severity_counts").in_bulk(found)
    return [by_pk[pk] for pk in found]


def _iter(rows) -> Iterator[tuple[int, bytes]]:
    yield from rows.iterator(chunk_size=100)


def witnesses_live(queryset: QuerySet[FindingWitness]) -> QuerySet[FindingWitness]:
    """Witnesses with ``head_scan_id``: the scanner's newest scan of the tag, which is the
    last scan that listed the finding while the witness is present."""
    head = ScannerStream.objects.filter(
        tag_id=OuterRef("finding__tag_id"), scanner_key=OuterRef("scanner_key")
    )
    return queryset.annotate(
        head_scan_id=Subquery(head.values("scan_id")[:1]),
        head_scanned_at=Subquery(head.values("scanned_at")[:1]),
    )
