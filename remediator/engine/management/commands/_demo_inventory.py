"""Demo inventory and admission policies: two clusters running the demo images.

Each image's builds ran in turn in one or two namespaces: a build was seen running
until its successor rolled out, a lognormal while after that successor was scanned
(median a day and a half; a few rollouts trail by a week or more), so each digest's
``running_last_seen`` ends where a real inventory's would. The current digest runs now;
some images also still run an older digest somewhere (the rollout that never
happened: every third image with a fix runs the build before its latest fix), so the
pages show a vulnerable digest running next to its fixed successor.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from itertools import pairwise

from django.utils import timezone

from findings.models import Finding, RunningImage, Scan, Tag
from remediator.cluster.inventory import inventory_record
from remediator.cluster.pods import RunningRow
from remediator.engine.models import AdmissionPolicy

CLUSTERS = {"prod-eu": ["shop", "payments", "search"], "staging": ["shop", "qa"]}
KINDS = ["Deployment", "Deployment", "StatefulSet", "DaemonSet", "CronJob"]


ROLLOUT_MEDIAN_DAYS, ROLLOUT_SIGMA = 1.5, 1.0
Placement = tuple[str, str, str, str]
"""(cluster, namespace, kind, workload name)."""


def _placements(tag: Tag, rng: random.Random, *, old: bool) -> list[Placement]:
    base = tag.repository.name.rsplit("/", 1)[-1][:40] or "app"
    where = rng.sample(
        [(c, ns) for c, namespaces in CLUSTERS.items() for ns in namespaces], 1 if old else 2
    )
    name = f"{base}-legacy" if old else base
    return [(cluster, namespace, rng.choice(KINDS), name) for cluster, namespace in where]


def _rows(tag: Tag, digest: str, placements: list[Placement], base: str) -> list[RunningRow]:
    return [
        RunningRow(
            cluster=cluster,
            namespace=namespace,
            kind=kind,
            name=name,
            container=base,
            image_ref=f"{tag.repository}@{digest}",
            digest=digest,
        )
        for cluster, namespace, kind, name in placements
    ]


def _builds(tag: Tag) -> list[tuple[str, datetime]]:
    """The tag's digests in the order they were first scanned, with that time."""
    first: dict[str, datetime] = {}
    for digest, at in (
        Scan.objects.filter(tag=tag)
        .order_by("scanned_at")
        .values_list("image__digest", "scanned_at")
    ):
        first.setdefault(digest, at)
    return list(first.items())


def _history(tag: Tag, rng: random.Random, source: str, now: datetime) -> int:
    """Each earlier build seen running until its successor rolled out; the current one now."""
    placements = _placements(tag, rng, old=False)
    base = tag.repository.name.rsplit("/", 1)[-1][:40] or "app"
    builds = _builds(tag)
    count = 0
    for (digest, _), (_, successor_at) in pairwise(builds):
        lag = timedelta(days=rng.lognormvariate(math.log(ROLLOUT_MEDIAN_DAYS), ROLLOUT_SIGMA))
        seen = min(successor_at + lag, now - timedelta(hours=1))
        count += inventory_record(_rows(tag, digest, placements, base), source=source, seen_at=seen)
    seen = now - timedelta(minutes=rng.randint(1, 600))
    rows = _rows(tag, tag.image.digest, placements, base)
    return count + inventory_record(rows, source=source, seen_at=seen)


def _stuck_build(tag: Tag) -> str | None:
    """The build just before the tag's latest fix: a workload still runs it."""
    fixed = (
        Finding.objects.filter(tag=tag, status=Finding.Status.FIXED)
        .order_by("-fixed_at")
        .values_list("fixed_at", flat=True)
        .first()
    )
    if fixed is None:
        return None
    before = Scan.objects.filter(tag=tag, scanned_at__lt=fixed).order_by("-scanned_at")
    return before.values_list("image__digest", flat=True).first()


def create_demo_inventory(seed: int = 13) -> int:
    """Inventory history for the demo tags, and two admission policies; the number of
    containers running now."""
    rng = random.Random(seed)
    now = timezone.now()
    count = 0
    for n, tag in enumerate(Tag.objects.select_related("repository", "image").order_by("id")):
        source = ("inventory", "report", "admission")[n % 3]
        count += _history(tag, rng, source, now)
        stuck = _stuck_build(tag) if n % 3 == 0 else None
        if stuck:
            base = tag.repository.name.rsplit("/", 1)[-1][:40] or "app"
            rows = _rows(tag, stuck, _placements(tag, rng, old=True), base)
            seen = now - timedelta(minutes=rng.randint(1, 600))
            count += inventory_record(rows, source=source, seen_at=seen)
    RunningImage.objects.update(first_seen=now - timedelta(days=12))
    count = RunningImage.objects.count()
    AdmissionPolicy.objects.get_or_create(
        name="block-kev",
        defaults={"min_severity": "unknown", "kev": True, "order": 10,
                  "description": "Never admit a vulnerability CISA lists as exploited."},
    )  # fmt: skip
    AdmissionPolicy.objects.get_or_create(
        name="warn-old-critical-fixes",
        defaults={"mode": "warn", "min_severity": "critical", "fix_available": True,
                  "fix_grace_days": 14,
                  "order": 20, "description": "A critical fix has waited two weeks."},
    )  # fmt: skip
    return count
