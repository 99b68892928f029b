"""Demo inventory and admission policies: two clusters running the demo images.

Each image's current digest runs in one or two namespaces; every fourth image also
still runs an older digest somewhere (the rollout that never happened), so the pages
show a vulnerable digest running next to its fixed successor.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from findings.models import RunningImage, Scan, Tag
from remediator.cluster.inventory import inventory_record
from remediator.cluster.pods import RunningRow
from remediator.engine.models import AdmissionPolicy

CLUSTERS = {"prod-eu": ["shop", "payments", "search"], "staging": ["shop", "qa"]}
KINDS = ["Deployment", "Deployment", "StatefulSet", "DaemonSet", "CronJob"]


def _rows(tag: Tag, digest: str, rng: random.Random, *, old: bool) -> list[RunningRow]:
    base = tag.repository.name.rsplit("/", 1)[-1][:40] or "app"
    placements = rng.sample(
        [(c, ns) for c, namespaces in CLUSTERS.items() for ns in namespaces], 1 if old else 2
    )
    return [
        RunningRow(
            cluster=cluster,
            namespace=namespace,
            kind=rng.choice(KINDS),
            name=f"{base}-legacy" if old else base,
            container=base,
            image_ref=f"{tag.repository}@{digest}",
            digest=digest,
        )
        for cluster, namespace in placements
    ]


def create_demo_inventory(seed: int = 13) -> int:
    """Inventory rows for the demo tags, and two admission policies."""
    rng = random.Random(seed)
    rows: dict[str, list[RunningRow]] = {"inventory": [], "report": [], "admission": []}
    for n, tag in enumerate(Tag.objects.select_related("repository", "image").order_by("id")):
        source = ("inventory", "report", "admission")[n % 3]
        rows[source] += _rows(tag, tag.image.digest, rng, old=False)
        if n % 4 == 0:
            older = (
                Scan.objects.filter(tag=tag)
                .exclude(image_id=tag.image_id)
                .order_by("-scanned_at")
                .values_list("image__digest", flat=True)
                .first()
            )
            if older:
                rows[source] += _rows(tag, older, rng, old=True)
    count = 0
    for source, found in rows.items():
        seen = timezone.now() - timedelta(minutes=rng.randint(1, 600))
        count += inventory_record(found, source=source, seen_at=seen)
    RunningImage.objects.update(first_seen=timezone.now() - timedelta(days=12))
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
