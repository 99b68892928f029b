"""Normalised scan records -> database, in one transaction with bulk statements.

The number of statements per report does not grow with its findings: every
read and write below is one statement for the whole report (SQLite splits a bulk
statement only past its 32,766-variable limit, about 1,600 findings).

Lifecycle, per tag stream (repository + tag), on evidence (docs/findings.md, "When is a
finding fixed?"):
- a finding seen for the first time is created ``open``; the scanner that saw it
  becomes its witness (``findings.evidence``);
- it is closed as ``fixed`` by the scan after which no witness's newest scan of the
  tag lists it any more; a scanner that never reported it cannot close it;
- a fixed finding that a scanner's newest scan lists again is reopened and counted;
- a scan older than its scanner's newest one already stored (a late retry) is
  recorded, links its findings, and changes no status;
- a scan the report marks as failed or partial is recorded and changes nothing;
- a scan some of whose findings were refused at the parser boundary records and sees
  the findings it kept, but turns no witness absent and closes nothing: a refused
  finding is no evidence of absence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from msgspec.structs import astuple

from .bulk import rows_insert, rows_update
from .evidence import stream_advance, witnesses_of, witnesses_record
from .finding_rows import (
    SIGHTING_KEPT,
    UNKNOWN_TYPE,
    FindingContent,
    FindingKey,
    FindingUpdate,
    NewFinding,
    StoredFinding,
    package_type_of,
    sighting_kept,
)
from .models import (
    Delivery,
    Finding,
    Image,
    Repository,
    Scan,
    ScanFindingSet,
    Tag,
    clip,
)
from .parsers.base import ImageRef, ParsedFinding, ParsedScan
from .scansets import encode_ids
from .status import findings_fixed_by, findings_seen_again, new_finding_status
from .vulnerabilities import vulnerabilities_upsert


@dataclass(frozen=True)
class IngestResult:
    scan: Scan
    image: str
    findings: int
    new: int = 0
    fixed: int = 0
    reopened: int = 0
    created: bool = True
    refusals: tuple[str, ...] = ()
    """Why findings were refused at the parser boundary (the first few)."""

    @property
    def refused(self) -> int:
        return self.scan.refused

    def as_dict(self) -> dict:
        answer = {
            "delivery": self.scan.delivery_id,
            "scan": self.scan.pk,
            "image": self.image,
            "findings": self.findings,
            "new": self.new,
            "fixed": self.fixed,
            "reopened": self.reopened,
            "refused": self.refused,
        }
        if self.refusals:
            answer["refusals"] = list(self.refusals)
        if self.scan.failure:
            answer["failed"] = self.scan.failure
        return answer


@dataclass(frozen=True)
class ReportIngestResult:
    """A multi-image report (Trivy k8s, Trivy Operator): one IngestResult per image."""

    delivery_id: int
    results: tuple[IngestResult, ...]

    @property
    def created(self) -> bool:
        return any(r.created for r in self.results)

    @property
    def scan(self) -> Scan | None:
        return self.results[0].scan if self.results else None

    @property
    def findings(self) -> int:
        return sum(r.findings for r in self.results)

    def as_dict(self) -> dict:
        scans = [{k: v for k, v in r.as_dict().items() if k != "delivery"} for r in self.results]
        counted = ("findings", "new", "fixed", "reopened", "refused")
        totals = {k: sum(s[k] for s in scans) for k in counted}
        return {"delivery": self.delivery_id, "images": len(scans), **totals, "scans": scans}


def _by_key(findings: tuple[ParsedFinding, ...]) -> dict[FindingKey, ParsedFinding]:
    """One entry per finding; where a report lists one twice, a known package type wins."""
    by_key: dict[FindingKey, ParsedFinding] = {}
    for finding in findings:
        key = FindingKey.of(finding)
        kept = by_key.get(key)
        if kept is None or (
            package_type_of(kept) == UNKNOWN_TYPE and package_type_of(finding) != UNKNOWN_TYPE
        ):
            by_key[key] = finding
    return by_key


def scan_time(
    reported: datetime | None, *, received: datetime | None
) -> tuple[datetime, datetime | None]:
    """(scanned_at, the reported time if it was clamped). A report dated in the future
    beyond SCAN_TIME_MAX_SKEW_SECONDS counts as scanned when it was received, so that
    one report dated 9999 cannot outrank every later scan of its tag."""
    received = received or timezone.now()
    if reported is None:
        return received, None
    if reported > received + timedelta(seconds=settings.SCAN_TIME_MAX_SKEW_SECONDS):
        return received, reported
    return reported, None


def _tag_for_update(repository: Repository, name: str, image: Image) -> Tag:
    tag = Tag.objects.select_for_update().filter(repository=repository, name=name).first()
    if tag is None:
        tag, _ = Tag.objects.get_or_create(
            repository=repository, name=name, defaults={"image": image}
        )
    return tag


def _scanner_newest(tag: Tag, scanner_key: str) -> Scan | None:
    """The scanner's newest successful scan of the tag: what its witnesses go by."""
    return (
        Scan.objects.filter(tag=tag, scanner_key=scanner_key, failure="")
        .order_by("-scanned_at", "-id")
        .first()
    )


def scan_ingest(
    *,
    parsed: ParsedScan,
    image: ImageRef,
    delivery: Delivery,
    part: int = 0,
    findings_digest: str = "",
    parse_findings: Callable[[], ParsedScan] | None = None,
) -> IngestResult:
    """Store one parsed report for ``image``; idempotent per delivery and ``part``
    (which image of a multi-image report it is; 0 for the others).

    ``findings_digest`` is a digest of the report's findings as sent. With
    ``parse_findings``, ``parsed`` is the report without its findings: when its
    scanner's newest scan of the tag had the same digest (and this one is newer), the
    scan takes that one's finding set and nothing about the findings changes; otherwise
    ``parse_findings()`` gives the whole report.

    A report that says its scan failed or is partial is stored (scan and counts) and
    changes nothing else: no finding, status, witness or tag pointer.
    """
    with transaction.atomic():
        existing = Scan.objects.filter(delivery=delivery, part=part).first()
        if existing is not None:
            return IngestResult(
                scan=existing,
                image=str(image),
                findings=existing.findings_count,
                created=False,
                refusals=parsed.refusals,
            )
        repository, _ = Repository.objects.get_or_create(
            registry=image.registry, name=image.repository
        )
        img, _ = Image.objects.get_or_create(repository=repository, digest=image.digest)
        tag = _tag_for_update(repository, image.tag, img)
        scanned_at, reported = scan_time(parsed.scanned_at, received=delivery.received_at)
        failure = clip(parsed.failure, 2000)
        prior = None if failure else _scanner_newest(tag, parsed.scanner_key)
        newest = not failure and (prior is None or scanned_at >= prior.scanned_at)
        same = bool(
            newest and findings_digest and prior and prior.findings_digest == findings_digest
        )
        if parse_findings is not None and not same:
            parsed = parse_findings()
        by_key = _by_key(parsed.findings)
        complete = not parsed.refused
        severities = Counter(f.severity for f in by_key.values())
        if same:
            severities = Counter(prior.severity_counts)
        scan = Scan.objects.create(
            # an incomplete scan never stands for a later one with the same findings
            findings_digest=findings_digest if complete else "",
            delivery=delivery,
            part=part,
            workloads=[w.as_dict() for w in parsed.workloads],
            source=parsed.source,
            image=img,
            tag=tag,
            scanner=clip(parsed.scanner, 100),
            scanner_key=clip(parsed.scanner_key, 120),
            failure=failure,
            scanner_scan_id=clip(parsed.scan_id, 100),
            os=clip(parsed.os, 100),
            scanned_at=scanned_at,
            reported_scanned_at=reported,
            findings_count=prior.findings_count if same else len(by_key),
            refused=parsed.refused,
            severity_counts=dict(severities),
            superseded=not failure and not newest,
        )
        refusals = parsed.refusals
        if failure:
            return IngestResult(
                scan=scan, image=str(image), findings=len(by_key), refusals=refusals
            )
        if same:
            counts = _same_findings(scan=scan, tag=tag, prior=prior)
        else:
            vulnerabilities_upsert(by_key.values())
            counts = _findings_upsert(
                scan=scan, tag=tag, by_key=by_key, newest=newest, prior=prior, complete=complete
            )
        if tag.latest_scanned_at is None or scanned_at >= tag.latest_scanned_at:
            tag.image = img
            tag.latest_scan = scan
            tag.latest_scanned_at = scanned_at
            tag.save(update_fields=["image", "latest_scan", "latest_scanned_at", "updated_at"])
    return IngestResult(
        scan=scan, image=str(image), findings=scan.findings_count, refusals=refusals, **counts
    )


def _same_findings(*, scan: Scan, tag: Tag, prior: Scan) -> dict[str, int]:
    """``scan`` lists exactly what ``prior``, its scanner's newest scan of the tag, did:
    its finding set is prior's, the scanner's stream moves to it, and no finding or
    witness changes (an unchanged re-scan: a handful of rows)."""
    kept = ScanFindingSet.objects.filter(scan=prior).values_list("count", "ids").first()
    count, ids = kept or (0, encode_ids([]))
    ScanFindingSet.objects.create(scan=scan, count=count, ids=ids)
    stream_advance(scan=scan, tag=tag)
    return {"new": 0, "fixed": findings_fixed_by(scan=scan, tag=tag), "reopened": 0}


def _findings_upsert(
    *,
    scan: Scan,
    tag: Tag,
    by_key: dict[FindingKey, ParsedFinding],
    newest: bool,
    prior: Scan | None,
    complete: bool = True,
) -> dict[str, int]:
    """Write only what changed: new findings (COPY / one INSERT), findings whose content
    or presence changed (one UPDATE by id), witnesses that changed presence, and the
    scan's finding set as one row. An unchanged re-scan writes no finding row.
    An incomplete scan (``complete`` False: findings were refused) adds and sees what it
    lists, and turns no witness absent, so it closes nothing."""
    at = scan.scanned_at
    known = witnesses_of(tag=tag, scanner_key=scan.scanner_key)
    stored = {row.key: row for row in StoredFinding.read(Finding.objects.filter(tag=tag))}
    sighting = _first_sighting(tag, scan, prior)
    shared = tuple(sighting.values())
    created = [key for key in by_key if key not in stored]  # their rows: made as copied
    updates: list[FindingUpdate] = []
    listed: list[int] = []
    fixed_ids: list[int] = []
    for key, parsed in by_key.items():
        row = stored.get(key)
        if row is None:
            continue
        fid, first_seen = row.id, row.first_seen
        listed.append(fid)
        old = content = row.content
        fixable_since, last_seen = row.fixable_since, row.last_seen
        last_scan_id: int | None = None
        if newest:  # else a late scan: the newest one's content stays
            content = FindingContent.of(parsed, known_type=row.package_type)
            if content.fixable and fixable_since is None:
                fixable_since = at
            if row.status == Finding.Status.FIXED:
                fixed_ids.append(fid)
            if not known.get(fid) and at >= last_seen:  # this scanner sees it (again)
                last_seen, last_scan_id = at, scan.pk
        moved = last_scan_id is not None
        if content != old or fixable_since != row.fixable_since or at < first_seen or moved:
            updates.append(
                FindingUpdate.of(
                    content,
                    fixable_since=fixable_since,
                    first_seen=min(first_seen, at),
                    last_seen=last_seen,
                    last_scan_id=last_scan_id,
                    id=fid,
                )
            )
    table = Finding._meta.db_table
    if created:  # NewFinding values, then the sighting's; never all held at once
        rows = (NewFinding.values(key, by_key[key], at, shared) for key in created)
        rows_insert(table, (*NewFinding.__struct_fields__, *sighting), rows)
    _update_findings(table, updates)
    if created:
        new_ids = Finding.objects.filter(tag=tag, first_scan=scan).values_list("pk", flat=True)
        listed.extend(new_ids)
    ScanFindingSet.objects.create(scan=scan, count=len(listed), ids=encode_ids(listed))
    reopened = findings_seen_again(finding_ids=fixed_ids, scan=scan) if newest else 0
    witnesses_record(
        scan=scan, listed=set(listed), known=known, newest=newest, prior=prior, complete=complete
    )
    fixed = 0
    if newest:
        stream_advance(scan=scan, tag=tag)
        fixed = findings_fixed_by(scan=scan, tag=tag) if complete else 0
    return {"new": len(created), "fixed": fixed, "reopened": reopened}


def _first_sighting(tag: Tag, scan: Scan, prior: Scan | None) -> dict[str, object]:
    """{column: value} that every finding ``scan`` lists for the first time shares."""
    status, fixed_by = new_finding_status(newer=prior, scanned_at=scan.scanned_at)
    return {
        "repository_id": tag.repository_id,
        "tag_id": tag.pk,
        "status": status,
        "status_reason": "",
        "first_seen": scan.scanned_at,
        "last_seen": scan.scanned_at,
        "first_scan_id": scan.pk,
        "last_scan_id": scan.pk,
        "fixed_at": fixed_by.scanned_at if fixed_by else None,
        "fixed_by_scan_id": fixed_by.pk if fixed_by else None,
        "reopened_count": 0,
    }


def _update_findings(table: str, updates: list[FindingUpdate]) -> None:
    """Rows whose last sighting moved, and rows where only the content did (two shapes)."""
    moved = [astuple(u) for u in updates if u.last_scan_id is not None]
    rows_update(table, FindingUpdate.__struct_fields__, moved)
    kept = [sighting_kept(astuple(u)) for u in updates if u.last_scan_id is None]
    rows_update(table, SIGHTING_KEPT, kept)
