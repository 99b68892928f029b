"""Which decisions each image digest carries: the facts ``statements`` turns into VEX.

A digest D carries a finding's decision when one of D's newest successful scans (one
per scanner) listed the finding (its ScanFindingSet), and the finding is a false
positive, an acceptance still running, or under investigation; and it carries
``fixed`` for the findings a scan of D proved fixed (``fixed_by_scan``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from findings.models import Finding, Image, Repository, Scan, ScanFindingSet
from findings.scansets import decode_ids

from .purls import oci_purl
from .statements import AFFECTED, FIXED, NOT_AFFECTED, UNDER_INVESTIGATION, FindingFacts

S = Finding.Status
_FIELDS = (
    "pk",
    "vulnerability_id",
    "package",
    "installed_version",
    "package_type",
    "status",
    "status_reason",
    "vex_justification",
    "accepted_until",
    "decided_at",
    "investigating_since",
    "fixed_at",
    "fixed_by_scan__image_id",
    "last_seen",
)


def decided(now: datetime) -> Q:
    """Findings whose decision a VEX statement carries (fixed ones aside)."""
    running = Q(accepted_until__isnull=True) | Q(accepted_until__gt=now)
    return (
        Q(status=S.FALSE_POSITIVE)
        | (Q(status=S.ACCEPTED) & running)
        | (Q(status__in=(S.OPEN, S.IN_REMEDIATION)) & Q(investigating_since__isnull=False))
    )


def _newest_scans(images: Iterable[int]) -> tuple[dict[int, list[int]], dict[int, str]]:
    """Per image: the ids of its newest successful scan of each scanner; and its OS."""
    scans: dict[int, list[int]] = defaultdict(list)
    systems: dict[int, str] = {}
    seen: set[tuple[int, str]] = set()
    rows = (
        Scan.objects.filter(image_id__in=list(images), failure="")
        .order_by("image_id", "scanner_key", "-scanned_at", "-id")
        .values_list("id", "image_id", "scanner_key", "os")
    )
    for scan_id, image_id, scanner_key, os in rows:
        if os and image_id not in systems:
            systems[image_id] = os
        if (image_id, scanner_key) in seen:
            continue
        seen.add((image_id, scanner_key))
        scans[image_id].append(scan_id)
    return scans, systems


def _facts(row: dict, *, product: str, os: str, fixed: bool) -> FindingFacts:
    if fixed:
        status, at = FIXED, row["fixed_at"]
    elif row["status"] == S.FALSE_POSITIVE:
        status, at = NOT_AFFECTED, row["decided_at"]
    elif row["status"] == S.ACCEPTED:
        status, at = AFFECTED, row["decided_at"]
    else:
        status, at = UNDER_INVESTIGATION, row["investigating_since"]
    return FindingFacts(
        product=product,
        vulnerability_id=row["vulnerability_id"],
        package=row["package"],
        installed_version=row["installed_version"],
        package_type=row["package_type"],
        os=os,
        status=status,
        # decisions made before decided_at existed: a stable stand-in, so that an
        # unchanged decision keeps its statement (and the document its version)
        at=at or row["last_seen"],
        reason="" if fixed else row["status_reason"],
        justification=row["vex_justification"] if status == NOT_AFFECTED else "",
        accepted_until=row["accepted_until"] if status == AFFECTED else None,
    )


def digest_facts(
    repository: Repository, images: list[Image] | None = None, *, now: datetime | None = None
) -> list[tuple[Image, list[FindingFacts]]]:
    """Each of ``images`` (every digest of the repository when None) with the facts of
    its statements. Images without a digest string are left out: no purl."""
    now = now or timezone.now()
    if images is None:
        images = list(repository.images.exclude(digest=""))
    images = [image for image in images if image.digest]
    by_id = {image.pk: image for image in images}
    scans, systems = _newest_scans(by_id)
    listed: dict[int, set[int]] = defaultdict(set)
    scan_image = {scan_id: image_id for image_id, ids in scans.items() for scan_id in ids}
    for scan_id, blob in ScanFindingSet.objects.filter(scan_id__in=list(scan_image)).values_list(
        "scan_id", "ids"
    ):
        listed[scan_image[scan_id]].update(decode_ids(blob))
    rows = {
        row["pk"]: row
        for row in Finding.objects.filter(repository=repository)
        .filter(decided(now))
        .values(*_FIELDS)
    }
    fixed_rows = Finding.objects.filter(
        repository=repository, status=S.FIXED, fixed_by_scan__image_id__in=list(by_id)
    ).values(*_FIELDS)
    out: dict[int, list[FindingFacts]] = {}
    for image_id, image in by_id.items():
        product = oci_purl(repository.registry, repository.name, image.digest)
        os = systems.get(image_id, "")
        facts = [
            _facts(rows[pk], product=product, os=os, fixed=False)
            for pk in sorted(listed[image_id] & rows.keys())
        ]
        out[image_id] = facts
    for row in fixed_rows:
        image = by_id[row["fixed_by_scan__image_id"]]
        product = oci_purl(repository.registry, repository.name, image.digest)
        out[image.pk].append(_facts(row, product=product, os=systems.get(image.pk, ""), fixed=True))
    return [(by_id[image_id], facts) for image_id, facts in out.items()]


def images_of_findings(finding_ids: Iterable[int]) -> dict[int, set[int]]:
    """Repository id -> the digests whose documents these findings may change: every
    digest scanned in their tag streams, and the digests whose scans fixed them."""
    ids = list(finding_ids)
    out: dict[int, set[int]] = defaultdict(set)
    rows = Finding.objects.filter(pk__in=ids).values_list(
        "repository_id", "tag_id", "fixed_by_scan__image_id"
    )
    tags: dict[int, set[int]] = defaultdict(set)
    for repository_id, tag_id, fixed_image in rows:
        tags[repository_id].add(tag_id)
        if fixed_image:
            out[repository_id].add(fixed_image)
    for repository_id, tag_ids in tags.items():
        out[repository_id].update(
            Scan.objects.filter(tag_id__in=tag_ids).values_list("image_id", flat=True).distinct()
        )
    return out
