"""Inventory reads: the named questions policies, admission and the pages ask of what runs
where (``running_repositories``, ``running_namespaces``, ``is_running``,
``running_for_repository``, ``running_for_digest``, ``running_for_finding``,
``running_containers``, ``exposure_ranking``). Rows not seen within INVENTORY_STALE_DAYS
count as gone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from fnmatch import fnmatchcase

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from findings.bulk import in_ids
from findings.models import Finding, Image, Repository, RunningImage, Scan
from findings.selectors.seen import SEEN_BY_WALK, scan_ids_that_saw


def _live() -> QuerySet[RunningImage]:
    """Containers seen within INVENTORY_STALE_DAYS: older rows count as gone even before
    the hourly ``inventory_expire`` removes them."""
    since = timezone.now() - timedelta(days=settings.INVENTORY_STALE_DAYS)
    return RunningImage.objects.filter(last_seen__gte=since)


def running_repositories() -> set[int]:
    """Ids of the repositories with at least one container seen running (not expired)."""
    return set(
        _live().filter(repository__isnull=False).values_list("repository_id", flat=True).distinct()
    )


def running_namespaces(repository_ids: Iterable[int] | None = None) -> dict[int, tuple[str, ...]]:
    """Per repository (all running ones, or those of ``repository_ids``): the namespaces
    it runs in, sorted; a repository asked for but not running maps to ``()``."""
    rows = _live().filter(repository__isnull=False)
    found: dict[int, set[str]] = {}
    if repository_ids is not None:
        ids = list(repository_ids)
        rows = rows.filter(repository_id__in=in_ids(ids))
        found = {pk: set() for pk in ids}
    for repository_id, namespace in rows.values_list("repository_id", "namespace").distinct():
        found.setdefault(repository_id, set()).add(namespace)
    return {pk: tuple(sorted(names)) for pk, names in found.items()}


def is_running(image: Image | Repository, *, namespace_glob: str = "") -> bool:
    """Does any workload run this image digest (an Image) or any digest of this
    repository (a Repository)? ``namespace_glob`` narrows to matching namespaces."""
    rows = (
        _live().filter(repository=image)
        if isinstance(image, Repository)
        else _live().filter(
            Q(image=image) | Q(repository_id=image.repository_id, digest=image.digest or None)
        )
    )
    if not namespace_glob:
        return rows.exists()
    return any(fnmatchcase(ns, namespace_glob) for ns in rows.values_list("namespace", flat=True))


def running_for_repository(repository: Repository) -> QuerySet[RunningImage]:
    return (
        _live()
        .filter(repository=repository)
        .order_by("cluster", "namespace", "kind", "name", "container")
    )


def running_for_digest(repository_id: int, digest: str) -> QuerySet[RunningImage]:
    return running_for_repository(Repository(pk=repository_id)).filter(digest=digest)


def running_for_finding(finding_id: int, *, limit: int = 50) -> list[RunningImage]:
    """Containers running a digest whose scans listed this finding."""
    finding = Finding.objects.filter(pk=finding_id).first()
    if finding is None:
        return []
    scan_ids = scan_ids_that_saw(finding, limit=SEEN_BY_WALK)
    digests = Scan.objects.filter(pk__in=in_ids(scan_ids)).values_list("image__digest")
    return list(
        _live()
        .filter(repository_id=finding.repository_id, digest__in=digests.distinct())
        .order_by("cluster", "namespace", "kind", "name", "container")[:limit]
    )


RUNNING_COLUMNS = ("cluster", "namespace", "kind", "name", "container", "image_ref", "digest")


def running_containers() -> QuerySet:
    """Every live container as a tuple of RUNNING_COLUMNS, by cluster, namespace,
    workload and container (one query; rows are read as they are iterated)."""
    order = ("cluster", "namespace", "kind", "name", "container")
    return _live().order_by(*order).values_list(*RUNNING_COLUMNS)


def exposure_ranking(*, limit: int = 10) -> list[dict]:
    """Running digests ranked by exposure: the severities the newest scan of the digest
    found (critical, then high), then how many containers run it. Reads the inventory
    and scans' stored severity counts, not the findings table."""
    running: dict[int, dict] = {}
    for row in _live().filter(image__isnull=False).values("image_id", "namespace", "cluster"):
        entry = running.setdefault(row["image_id"], {"containers": 0, "namespaces": set()})
        entry["containers"] += 1
        entry["namespaces"].add("/".join(p for p in (row["cluster"], row["namespace"]) if p))
    if not running:
        return []
    newest: dict[int, dict] = {}
    for image_id, counts in (
        Scan.objects.filter(image_id__in=in_ids(list(running)), failure="")
        .order_by("image_id", "-scanned_at", "-id")
        .values_list("image_id", "severity_counts")
    ):
        newest.setdefault(image_id, counts or {})
    images = Image.objects.select_related("repository").in_bulk(list(running))
    ranked = []
    for image_id, entry in running.items():
        counts = newest.get(image_id, {})
        ranked.append(
            {
                "image": images[image_id],
                "containers": entry["containers"],
                "namespaces": sorted(entry["namespaces"]),
                "critical": counts.get("critical", 0),
                "high": counts.get("high", 0),
            }
        )
    ranked.sort(key=lambda r: (-r["critical"], -r["high"], -r["containers"], r["image"].pk))
    return ranked[:limit]
