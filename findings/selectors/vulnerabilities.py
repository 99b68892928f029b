"""Named reads of vulnerabilities: the images a vulnerability is found in."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from findings.models import Finding, Vulnerability
from findings.querysets import ACTIVE_STATUSES
from findings.selectors.scope import visible


def affected_images(vulnerability: Vulnerability, *, user: Any = None) -> list[dict]:
    """Repositories with findings of this vulnerability that ``user`` may see (team-scoped
    access), most open first: their open and total counts and the tags it is open in (2
    queries). ``registry``/``name`` name the repository; ``repository`` is its id."""
    findings = visible(Finding.objects.filter(vulnerability=vulnerability), user).order_by()
    rows = findings.values("repository_id", "repository__registry", "repository__name").annotate(
        open=Count("id", filter=Q(status__in=ACTIVE_STATUSES)), total=Count("id")
    )
    tags: dict[int, set[str]] = {}
    for repository_id, tag in (
        findings.filter(status__in=ACTIVE_STATUSES).values_list("repository_id", "tag__name")
    ).distinct():
        tags.setdefault(repository_id, set()).add(tag)
    return [
        {
            "repository": row["repository_id"],
            "registry": row["repository__registry"],
            "name": row["repository__name"],
            "tags": sorted(tags.get(row["repository_id"], ())),
            "open_findings": row["open"],
            "findings": row["total"],
        }
        for row in sorted(rows, key=lambda r: (-r["open"], r["repository_id"]))
    ]
