"""Inventory writes: which cluster/namespace/workload runs which image digest.

``inventory_record`` upserts what admission reviews, inventory pushes and
``inventory_from_scan`` (the workloads a Trivy Kubernetes / Trivy Operator report names,
``Scan.workloads``) saw, with the workload's labels when the source knows them, and
moves each sighted image's ``running_last_seen`` forward; ``inventory_expire`` forgets
what was not seen again (``running_last_seen`` stays: it says when a vulnerable digest
stopped running). A repository seen in a namespace or with labels not recorded for it
before is announced (``signals.sightings_changed``: ownership rules may match it now).
The named reads are ``selectors.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from findings.bulk import in_ids
from findings.models import Image, Repository, RunningImage, Scan, clip
from findings.parsers.images import try_image_reference

from .pods import RunningRow, row_problem
from .signals import sightings_changed

__all__ = ["inventory_expire", "inventory_from_scan", "inventory_record"]


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
            labels=dict(row.labels) if row.labels is not None else None,
            first_seen=seen_at,
            last_seen=seen_at,
        )
    changed = _new_sightings(objects.values())
    fields = ["image_ref", "repository", "digest", "image", "source", "last_seen"]
    for with_labels in (True, False):  # labels unknown to this source stay as they were
        batch = [o for o in objects.values() if (o.labels is not None) == with_labels]
        if batch:
            RunningImage.objects.bulk_create(
                batch,
                update_conflicts=True,
                unique_fields=["cluster", "namespace", "kind", "name", "container"],
                update_fields=[*fields, "labels"] if with_labels else fields,
            )
    _running_seen(sorted({row.image.pk for row in objects.values() if row.image}), seen_at)
    if changed:
        ids = sorted(changed)
        transaction.on_commit(lambda: sightings_changed.send(RunningImage, repository_ids=ids))
    return len(objects)


def _new_sightings(objects: Iterable[RunningImage]) -> set[int]:
    """The repositories that these rows show in a namespace, or with labels, that their
    recorded sightings do not: where ownership rules may now match differently."""
    objects = [o for o in objects if o.repository is not None]
    if not objects:
        return set()
    ids = sorted({o.repository.pk for o in objects})
    known: set[tuple] = set()
    for repository_id, namespace, labels in RunningImage.objects.filter(
        repository_id__in=in_ids(ids)
    ).values_list("repository_id", "namespace", "labels"):
        known.add((repository_id, namespace, None))
        known.add((repository_id, namespace, _frozen(labels)))
    return {
        o.repository.pk
        for o in objects
        if (o.repository.pk, o.namespace, _frozen(o.labels) if o.labels is not None else None)
        not in known
    }


def _frozen(labels: object) -> tuple:
    return tuple(sorted(labels.items())) if isinstance(labels, dict) else ()


def _running_seen(image_ids: list[int], seen_at: datetime) -> int:
    """``running_last_seen = max(running_last_seen, seen_at)`` for the sighted images, in
    one statement: a late-arriving older sighting never moves it back."""
    if not image_ids:
        return 0
    return (
        Image.objects.filter(pk__in=in_ids(image_ids))
        .filter(Q(running_last_seen__isnull=True) | Q(running_last_seen__lt=seen_at))
        .update(running_last_seen=seen_at)
    )


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
