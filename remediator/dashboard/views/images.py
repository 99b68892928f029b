"""Images (repositories): searchable list and a detail page with its tags,
digest history, open findings by package, scans and actions."""

from __future__ import annotations

from collections import OrderedDict

from django.db.models import Count, Max, Min
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from findings.inventory import running_for_repository
from findings.models import Finding, Repository, Scan, Tag
from findings.selectors import open_counts_for_repositories
from remediator.core import permissions
from remediator.dashboard.common import keyset_page, require_perm
from remediator.dashboard.filters import ImageFilterForm
from remediator.engine.models import RemediationAction

OPEN_FINDINGS_CAP = 500
RUNNING_CAP = 200


@require_perm(permissions.VIEW_REPOSITORY)
def image_list(request: HttpRequest) -> HttpResponse:
    form = ImageFilterForm(request.GET)
    page = keyset_page(request, form.apply(Repository.objects.all()), keys=("name", "id"))
    counts = open_counts_for_repositories([r.pk for r in page.rows])
    rows = [(repository, counts[repository.pk]) for repository in page.rows]
    return render(request, "findings/image_list.html", {"form": form, "page": page, "rows": rows})


def _digest_history(tags: list[Tag]) -> dict[int, list[dict]]:
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


def _open_by_package(repository: Repository) -> tuple[list[dict], bool]:
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
        .order_by("-severity_rank", "package", "-id")[: OPEN_FINDINGS_CAP + 1]
    )
    truncated = len(findings) > OPEN_FINDINGS_CAP
    groups: OrderedDict[tuple[str, str], dict] = OrderedDict()
    for finding in findings[:OPEN_FINDINGS_CAP]:
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


@require_perm(permissions.VIEW_REPOSITORY)
def image_detail(request: HttpRequest, pk: int) -> HttpResponse:
    repository = get_object_or_404(Repository, pk=pk)
    tags = list(
        repository.tags.select_related("image", "latest_scan").order_by("-latest_scanned_at")[:50]
    )
    history = _digest_history(tags)
    packages, truncated = _open_by_package(repository)
    scans = (
        Scan.objects.filter(tag__repository=repository)
        .select_related("tag", "image")
        .order_by("-scanned_at", "-id")[:30]
    )
    actions = (
        RemediationAction.objects.filter(repository=repository)
        .select_related("tag", "requested_by", "policy")
        .order_by("-id")[:20]
    )
    counts = open_counts_for_repositories([repository.pk])[repository.pk]
    running = list(running_for_repository(repository)[:RUNNING_CAP])
    current: dict[str, list[str]] = {}
    for tag in tags:
        current.setdefault(tag.image.digest, []).append(tag.name or "(untagged)")
    for row in running:
        row.current_tags = current.get(row.digest, [])
    return render(
        request,
        "findings/image_detail.html",
        {
            "repository": repository,
            "tags": [(tag, history[tag.pk]) for tag in tags],
            "packages": packages,
            "truncated": truncated,
            "cap": OPEN_FINDINGS_CAP,
            "scans": scans,
            "actions": actions,
            "counts": counts,
            "running": running,
            "can_act": request.user.has_perm(permissions.APPROVE_ACTION),
        },
    )
