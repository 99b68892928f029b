"""Named reads of images (repositories): the list with its open counts, the riskiest, and
what an image's page shows (its tags' digest history, open findings by package)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from findings.models import Finding, Repository, Scan, Tag
from findings.querysets import ACTIVE_STATUSES
from remediator.core.severity import SEVERITIES, SEVERITY_RANK

from . import threat_intel as intel

RISK_WEIGHTS = {"critical": 10, "high": 5, "medium": 2, "low": 1}
OPEN_FINDINGS_CAP = 500
"""An image's page lists at most this many of its open findings."""


def images_with_counts() -> QuerySet[Repository]:
    """Repositories with their open findings per severity (``open_<severity>``), last scan
    (``last_scan_id``, ``last_scanned_at``) and tags with their images: the API's images."""
    open_by = {
        f"open_{severity}": Count(
            "findings",
            filter=Q(findings__status__in=ACTIVE_STATUSES, findings__severity=severity),
        )
        for severity in SEVERITIES
    }
    last = Scan.objects.filter(image__repository=OuterRef("pk")).order_by("-scanned_at", "-id")
    return (
        Repository.objects.select_related("owner")
        .annotate(
            **open_by,
            last_scan_id=Subquery(last.values("id")[:1]),
            last_scanned_at=Subquery(last.values("scanned_at")[:1]),
        )
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.select_related("image")))
    )


def open_counts_for_repositories(repository_ids: list[int]) -> dict[int, dict[str, int]]:
    """Open findings per severity for a page of repositories: one grouped query."""
    counts: dict[int, dict[str, int]] = {pk: dict.fromkeys(SEVERITIES, 0) for pk in repository_ids}
    if not repository_ids:
        return counts
    rows = (
        Finding.objects.open()
        .filter(repository_id__in=repository_ids)
        .order_by()
        .values("repository_id", "severity")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["repository_id"]][row["severity"]] = row["n"]
    for value in counts.values():
        value["fixable"] = 0
    fixable = (
        Finding.objects.open()
        .filter(repository_id__in=repository_ids, fixable=True)
        .order_by()
        .values("repository_id")
        .annotate(n=Count("id"))
    )
    for row in fixable:
        counts[row["repository_id"]]["fixable"] = row["n"]
    return counts


@dataclass(frozen=True)
class RiskyImage:
    repository: Repository
    score: int
    critical: int
    high: int
    medium: int
    low: int
    kev: int = 0
    """Open findings of vulnerabilities in CISA's KEV catalogue."""


def riskiest_images(*, limit: int = 10) -> list[RiskyImage]:
    """Repositories with known-exploited (KEV) open findings first, most first; then by
    score: the sum over open findings of severity weight (critical 10, high 5, medium 2,
    low 1) x (1 + 9 x EPSS), so a finding certain to be exploited counts ten times."""
    weight = Case(
        *(When(severity_rank=SEVERITY_RANK[s], then=w) for s, w in RISK_WEIGHTS.items()),
        default=0,
        output_field=IntegerField(),
    )
    epss = Coalesce(F(intel.EPSS), Value(0.0), output_field=FloatField())
    rows = list(
        Finding.objects.open()
        .filter(Q(severity_rank__gte=SEVERITY_RANK["low"]) | intel.kev_q(True))
        .order_by()
        .values("repository_id")
        .annotate(
            score=Sum(weight * (1 + 9 * epss), output_field=FloatField()),
            kev=Count("id", filter=intel.kev_q(True)),
            critical=Count("id", filter=Q(severity_rank=5)),
            high=Count("id", filter=Q(severity_rank=4)),
            medium=Count("id", filter=Q(severity_rank=3)),
            low=Count("id", filter=Q(severity_rank=2)),
        )
        .order_by("-kev", "-score", "repository_id")[:limit]
    )
    repositories = Repository.objects.in_bulk([r["repository_id"] for r in rows])
    return [
        RiskyImage(
            repository=repositories[r["repository_id"]],
            score=round(r["score"] or 0),
            kev=r["kev"],
            critical=r["critical"],
            high=r["high"],
            medium=r["medium"],
            low=r["low"],
        )
        for r in rows
        if r["repository_id"] in repositories
    ]


def image_tags(repository: Repository, *, limit: int = 50) -> list[Tag]:
    """The repository's tags, most recently scanned first, with image and latest scan."""
    return list(
        repository.tags.select_related("image", "latest_scan").order_by("-latest_scanned_at")[
            :limit
        ]
    )


def digest_history(tags: list[Tag]) -> dict[int, list[dict]]:
    """Per tag, the digests its scans saw, newest first: one grouped query."""
    history: dict[int, list[dict]] = {tag.pk: [] for tag in tags}
    rows = (
        Scan.objects.filter(tag__in=tags)
        .order_by()
        .values("tag_id", "image__digest")
        .annotate(first=Min("scanned_at"), last=Max("scanned_at"), scans=Count("id"))
        .order_by("tag_id", "-last")
    )
    for row in rows:
        history[row["tag_id"]].append(row)
    return history


def open_by_package(
    repository: Repository, *, cap: int = OPEN_FINDINGS_CAP
) -> tuple[list[dict], bool]:
    """The repository's open findings (worst ``cap``) grouped by package and installed
    version, worst group first, each with the fixed versions its findings name; and
    whether there were more than ``cap``."""
    findings = list(
        Finding.objects.open()
        .filter(repository=repository)
        .select_related("tag")
        .only(
            "id",
            "vulnerability_id",
            "severity",
            "severity_rank",
            "package",
            "installed_version",
            "fixed_version",
            "fixable",
            "tag__name",
            "first_seen",
        )
        .order_by("-severity_rank", "package", "-id")[: cap + 1]
    )
    truncated = len(findings) > cap
    groups: OrderedDict[tuple[str, str], dict] = OrderedDict()
    for finding in findings[:cap]:
        key = (finding.package, finding.installed_version)
        group = groups.setdefault(
            key,
            {
                "package": finding.package,
                "installed_version": finding.installed_version,
                "fixed_versions": [],
                "findings": [],
                "worst": finding,
            },
        )
        group["findings"].append(finding)
        for version in filter(None, (v.strip() for v in finding.fixed_version.split(","))):
            if version not in group["fixed_versions"]:
                group["fixed_versions"].append(version)
    ordered = sorted(groups.values(), key=lambda g: (-g["worst"].severity_rank, g["package"]))
    return ordered, truncated
