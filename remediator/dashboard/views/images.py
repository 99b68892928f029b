"""Images (repositories): searchable list and a detail page with its tags,
digest history, open findings by package, scans and actions."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from findings.filters import ImageFilter
from findings.models import Repository
from findings.selectors.images import (
    OPEN_FINDINGS_CAP,
    digest_history,
    image_tags,
    open_by_package,
    open_counts_for_repositories,
)
from findings.selectors.scans import image_scans
from findings.selectors.scope import visible
from findings.vex.selectors import image_statements
from remediator.cluster.selectors import running_for_repository
from remediator.core import permissions
from remediator.dashboard.common import keyset_page, list_filter, require_perm, sort_headers
from remediator.dashboard.readiness import with_readiness
from remediator.engine.selectors import repository_actions

RUNNING_CAP = 200
SORT_COLUMNS = {"image": "name", "registry": "registry"}


@require_perm(permissions.VIEW_REPOSITORY)
def image_list(request: HttpRequest) -> HttpResponse:
    repositories = Repository.objects.select_related("owner")
    filterset, queryset = list_filter(request, ImageFilter, repositories)
    queryset, keys = filterset.ordered(queryset, default="name")
    page = keyset_page(request, queryset, keys=keys)
    counts = open_counts_for_repositories([r.pk for r in page.rows])
    for repository in page.rows:
        repository.open_counts = counts[repository.pk]  # one grouped query for the page
    sorts = sort_headers(request, filterset, SORT_COLUMNS, default="name")
    context = {"filter": filterset, "page": page, "sorts": sorts}
    return render(request, "findings/image_list.html", context)


@require_perm(permissions.VIEW_REPOSITORY)
def image_detail(request: HttpRequest, pk: int) -> HttpResponse:
    repository = get_object_or_404(
        visible(Repository.objects.select_related("owner"), request.user), pk=pk
    )
    tags = image_tags(repository, limit=50)
    history = digest_history(tags)
    packages, truncated = open_by_package(repository)
    scans = image_scans(repository, limit=30)
    actions = list(repository_actions(repository, limit=20))
    with_readiness(actions)
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
            "vex": image_statements(repository.pk),
            "can_act": request.user.has_perm(permissions.APPROVE_ACTION),
        },
    )
