"""Inventory: which cluster/namespace/workload runs which image digest.

Writes (``inventory_record``, ``inventory_from_scan``, ``inventory_expire``) and the
named reads other parts use (``running_repositories``, ``is_running``,
``running_for_repository``, ``running_for_digest``). Rows come from admission reviews,
Trivy Kubernetes / Trivy Operator reports (``Scan.workloads``) and inventory pushes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from .bulk import in_ids
from .models import Finding, Image, Repository, RunningImage, Scan, clip
from .parsers.images import try_image_reference
from .pods import RunningRow, row_problem
from .selectors.seen import SEEN_BY_WALK, scan_ids_that_saw

__all__ = [
    "RunningRow",
    "exposure_ranking",
    "inventory_expire",
    "inventory_from_scan",
    "inventory_record",
    "is_running",
    "running_for_digest",
    "running_for_finding",
    "running_for_repository",
    "running_namespaces",
    "running_repositories",
]


# --- reads ---------------------------------------------------------------------------


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


# --- writes --------------------------------------------------------------------------


def _resolve(rows: list[RunningRow]) -> dict[str, tuple[Repository | None, str, Image | None]]:
    """Per image reference: its known repository, digest and Image (two queries, each with
    one bound parameter however many references: no statement grows with the push)."""
    parsed = {}
    for row in rows:
        ref = try_image_reference(row.image_ref, row.digest)
        parsed[(row.image_ref, row.digest)] = ref
    names = {(r.registry, r.repository) for r in parsed.values() if r is not None}
    candidates = Repository.objects.filter(
        name__in=in_ids(sorted({name for _, name in names}), text=True)
    )
    repositories = {(r.registry, r.name): r for r in candidates if (r.registry, r.name) in names}
    digests = sorted({r.digest for r in parsed.values() if r is not None and r.digest})
    images = {}
    if repositories and digests:
        images = {
            (image.repository_id, image.digest): image
            for image in Image.objects.filter(
                repository_id__in=in_ids(sorted(r.pk for r in repositories.values())),
                digest__in=in_ids(digests, text=True),
            )
        }
    resolved = {}
    for (image_ref, digest), ref in parsed.items():
        repository = repositories.get((ref.registry, ref.repository)) if ref else None
        found = (ref.digest if ref else "") or digest
        image = images.get((repository.pk, found)) if repository and found else None
        resolved[f"{image_ref}@@{digest}"] = (repository, found, image)
    return resolved


def inventory_record(
    rows: Iterable[RunningRow], *, source: str, seen_at: datetime | None = None
) -> int:
    """Upsert one RunningImage per (cluster, namespace, kind, name, container): a new
    one starts at ``seen_at``; a known one moves its image and ``last_seen``. Rows that
    ``row_problem`` refuses (an empty or control-character name) are left out."""
    rows = [row for row in rows if not row_problem(row)]
    if not rows:
        return 0
    seen_at = seen_at or timezone.now()
    resolved = _resolve(rows)
    objects = {}
    for row in rows:
        repository, digest, image = resolved[f"{row.image_ref}@@{row.digest}"]
        key = (row.cluster, row.namespace, row.kind, row.name, row.container)
        objects[key] = RunningImage(
            cluster=clip(row.cluster, 200),
            namespace=clip(row.namespace, 253),
            kind=clip(row.kind, 64),
            name=clip(row.name, 253),
            container=clip(row.container, 253),
            image_ref=clip(row.image_ref, 1000),
            repository=repository,
            digest=digest[:200],
            image=image,
            source=source,
            first_seen=seen_at,
            last_seen=seen_at,
        )
    RunningImage.objects.bulk_create(
        list(objects.values()),
        update_conflicts=True,
        unique_fields=["cluster", "namespace", "kind", "name", "container"],
        update_fields=["image_ref", "repository", "digest", "image", "source", "last_seen"],
    )
    return len(objects)


def inventory_from_scan(scan_id: int) -> int:
    """The workloads a Trivy Kubernetes / Trivy Operator scan names run its image."""
    scan = (
        Scan.objects.filter(pk=scan_id)
        .select_related("image__repository")
        .only("workloads", "scanned_at", "image__digest", "image__repository")
        .first()
    )
    if scan is None or not scan.workloads:
        return 0
    image = scan.image
    reference = str(image.repository)
    rows = [
        RunningRow(
            cluster=str(w.get("cluster") or ""),
            namespace=str(w.get("namespace") or ""),
            kind=str(w.get("kind") or ""),
            name=str(w.get("name") or ""),
            container=str(w.get("container") or w.get("name") or ""),
            image_ref=f"{reference}@{image.digest}" if image.digest else reference,
            digest=image.digest,
        )
        for w in scan.workloads
        if isinstance(w, dict)
    ]
    return inventory_record(rows, source=RunningImage.Source.REPORT, seen_at=scan.scanned_at)


def inventory_expire(*, days: int, now: datetime | None = None) -> int:
    """Forget containers not seen for ``days`` days; the number removed."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _ = RunningImage.objects.filter(last_seen__lt=cutoff).delete()
    return deleted


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
