"""Normalised scan records -> database, in one transaction with bulk statements.

The number of statements per report does not grow with its findings: every
read and write below is one statement for the whole report (SQLite splits a bulk
statement only past its 32,766-variable limit, about 1,600 findings).

Lifecycle, per tag stream (repository + tag), on evidence (README, "When is a
finding fixed?"):
- a finding seen for the first time is created ``open``; the scanner that saw it
  becomes its witness (``findings.evidence``);
- it is closed as ``fixed`` by the scan after which no witness's newest scan of the
  tag lists it any more; a scanner that never reported it cannot close it;
- a fixed finding that a scanner's newest scan lists again is reopened and counted;
- a scan older than its scanner's newest one already stored (a late retry) is
  recorded, links its findings, and changes no status;
- a scan the report marks as failed or partial is recorded and changes nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from remediator.core.severity import SEVERITY_RANK

from .evidence import witnesses_lost, witnesses_saw
from .models import (
    Delivery,
    Finding,
    Image,
    Repository,
    Scan,
    ScanFinding,
    Tag,
    clip,
)
from .parsers.base import ImageRef, ParsedFinding, ParsedScan
from .status import finding_seen_again, finding_seen_only_before, findings_fixed_by
from .vulnerabilities import vulnerabilities_upsert

FindingKey = tuple[str, str, str]
"""(vulnerability, package, installed version): the package type is not part of it."""
UNKNOWN_TYPE = "unknown"


@dataclass(frozen=True)
class IngestResult:
    scan: Scan
    image: str
    findings: int
    new: int = 0
    fixed: int = 0
    reopened: int = 0
    created: bool = True

    def as_dict(self) -> dict:
        answer = {
            "delivery": self.scan.delivery_id,
            "scan": self.scan.pk,
            "image": self.image,
            "findings": self.findings,
            "new": self.new,
            "fixed": self.fixed,
            "reopened": self.reopened,
        }
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
        totals = {k: sum(s[k] for s in scans) for k in ("findings", "new", "fixed", "reopened")}
        return {"delivery": self.delivery_id, "images": len(scans), **totals, "scans": scans}


def _key(parsed: ParsedFinding) -> FindingKey:
    return (
        clip(parsed.vulnerability_id, 100),
        clip(parsed.package, 300),
        clip(parsed.installed_version, 200),
    )


def _package_type(parsed: ParsedFinding) -> str:
    return clip(parsed.package_type or UNKNOWN_TYPE, 32)


def _by_key(findings: tuple[ParsedFinding, ...]) -> dict[FindingKey, ParsedFinding]:
    """One entry per finding; where a report lists one twice, a known package type wins."""
    by_key: dict[FindingKey, ParsedFinding] = {}
    for finding in findings:
        key = _key(finding)
        kept = by_key.get(key)
        if kept is None or (
            _package_type(kept) == UNKNOWN_TYPE and _package_type(finding) != UNKNOWN_TYPE
        ):
            by_key[key] = finding
    return by_key


def _apply(finding: Finding, parsed: ParsedFinding, scan: Scan) -> None:
    """Copy what the newest scan says about a finding onto its row."""
    finding.severity = parsed.severity
    finding.severity_rank = SEVERITY_RANK.get(parsed.severity, 0)
    finding.fixed_version = clip(", ".join(parsed.fixed_versions), 300)
    finding.fixable = bool(parsed.fixed_versions)
    if finding.fixable and finding.fixable_since is None:
        finding.fixable_since = scan.scanned_at
    finding.cvss_score = parsed.cvss_score
    finding.vendor_status = clip(parsed.vendor_status, 32)
    finding.locations = list(parsed.locations)[:50]
    if _package_type(parsed) != UNKNOWN_TYPE:
        finding.package_type = _package_type(parsed)  # a known ecosystem wins over unknown
    if finding.last_seen is None or scan.scanned_at >= finding.last_seen:
        finding.last_seen = scan.scanned_at
        finding.last_scan = scan


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
    *, parsed: ParsedScan, image: ImageRef, delivery: Delivery, part: int = 0
) -> IngestResult:
    """Store one parsed report for ``image``; idempotent per delivery and ``part``
    (which image of a multi-image report it is; 0 for the others).

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
            )
        repository, _ = Repository.objects.get_or_create(
            registry=image.registry, name=image.repository
        )
        img, _ = Image.objects.get_or_create(repository=repository, digest=image.digest)
        tag = _tag_for_update(repository, image.tag, img)
        scanned_at, reported = scan_time(parsed.scanned_at, received=delivery.received_at)
        by_key = _by_key(parsed.findings)
        failure = clip(parsed.failure, 2000)
        prior = None if failure else _scanner_newest(tag, parsed.scanner_key)
        newest = not failure and (prior is None or scanned_at >= prior.scanned_at)
        scan = Scan.objects.create(
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
            findings_count=len(by_key),
            severity_counts=dict(Counter(f.severity for f in by_key.values())),
            superseded=not failure and not newest,
        )
        if failure:
            return IngestResult(scan=scan, image=str(image), findings=len(by_key))
        vulnerabilities_upsert(by_key.values())
        counts = _findings_upsert(scan=scan, tag=tag, by_key=by_key, newest=newest, prior=prior)
        if tag.latest_scanned_at is None or scanned_at >= tag.latest_scanned_at:
            tag.image = img
            tag.latest_scan = scan
            tag.latest_scanned_at = scanned_at
            tag.save(update_fields=["image", "latest_scan", "latest_scanned_at", "updated_at"])
    return IngestResult(scan=scan, image=str(image), findings=len(by_key), **counts)


def _findings_upsert(
    *,
    scan: Scan,
    tag: Tag,
    by_key: dict[FindingKey, ParsedFinding],
    newest: bool,
    prior: Scan | None,
) -> dict[str, int]:
    existing = {
        (f.vulnerability_id, f.package, f.installed_version): f
        for f in Finding.objects.filter(tag=tag)
    }
    created: list[Finding] = []
    changed: list[Finding] = []
    reopened = 0
    for key, parsed in by_key.items():
        finding = existing.get(key)
        if finding is None:
            created.append(_new_finding(key, parsed, scan=scan, tag=tag, newer=prior))
            continue
        if newest:
            _apply(finding, parsed, scan)
            if finding_seen_again(finding, scan):
                reopened += 1
        finding.first_seen = min(finding.first_seen, scan.scanned_at)
        changed.append(finding)

    # One INSERT ... ON CONFLICT DO UPDATE writes new and changed rows alike: linear,
    # where bulk_update's CASE WHEN per field is quadratic in the number of rows.
    known_pks = [f.pk for f in changed]
    for finding in changed:
        finding.pk = None
    Finding.objects.bulk_create(
        [*created, *changed],
        update_conflicts=True,
        unique_fields=DEDUP_FIELDS,
        update_fields=UPDATE_FIELDS,
    )
    for finding, pk in zip(changed, known_pks, strict=True):
        finding.pk = pk
    listed = [f.pk for f in [*created, *changed]]
    ScanFinding.objects.bulk_create(
        [ScanFinding(scan=scan, finding_id=pk) for pk in listed], ignore_conflicts=True
    )
    witnesses_saw(scan=scan, finding_ids=listed, newest=newest, prior=prior)
    fixed = 0
    if newest:
        witnesses_lost(scan=scan, tag=tag)
        fixed = findings_fixed_by(scan=scan, tag=tag)
    return {"new": len(created), "fixed": fixed, "reopened": reopened}


DEDUP_FIELDS = ["tag", "vulnerability", "package", "installed_version"]
UPDATE_FIELDS = [
    "package_type",
    "severity",
    "severity_rank",
    "fixed_version",
    "fixable",
    "fixable_since",
    "cvss_score",
    "vendor_status",
    "locations",
    "last_seen",
    "last_scan",
    "first_seen",
    "status",
    "reopened_count",
    "reopened_at",
    "fixed_at",
    "fixed_by_scan",
]


def _new_finding(
    key: FindingKey, parsed: ParsedFinding, *, scan: Scan, tag: Tag, newer: Scan | None
) -> Finding:
    vuln_id, package, version = key
    finding = Finding(
        repository_id=tag.repository_id,
        tag=tag,
        vulnerability_id=vuln_id,
        package=package,
        installed_version=version,
        package_type=_package_type(parsed),
        first_seen=scan.scanned_at,
        first_scan=scan,
    )
    _apply(finding, parsed, scan)
    if newer is not None and newer.scanned_at > scan.scanned_at:
        finding_seen_only_before(finding, newer)
    return finding
