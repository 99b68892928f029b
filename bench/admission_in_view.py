"""Admission in view at a large inventory: the time to answer "what would each admission
policy deny today" over every running container and the last days of admission reviews.

    .venv/bin/python bench/admission_in_view.py [--images 500] [--running 50000]
        [--reviews 20000] [--policies 3] [--runs 3]

Seeds a database (DATABASE_URL, else SQLite in DATA_DIR=var/bench-admission-view) once:
``--images`` images scanned through the real intake with 20 findings each (a critical one
in every third), ``--running`` inventory rows spread over those images (by tag and by
digest) in 50 namespaces, ``--reviews`` allowed admission reviews in the audit trail, and
``--policies`` admission policies. Then times ``admission_in_view`` (what the Policies page
and the API compute) ``--runs`` times, printing the median, the number of queries, and
the counts it found, and the time of an answer the cache holds. It asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remediator.settings")
os.environ.setdefault("DATA_DIR", str(ROOT / "var" / "bench-admission-view"))
NAMESPACES = 50


def digest_of(n: int) -> str:
    return "sha256:" + f"{n + 1:064x}"


def seed_images(images: int) -> None:
    from findings.models import Repository
    from remediator.intake.receive import delivery_process
    from remediator.intake.store import delivery_store

    have = Repository.objects.filter(name__startswith="bench/app").count()
    for n in range(have, images):
        findings = [
            {
                "id": f"CVE-2024-{n:04d}{i:02d}",
                "severity": "critical" if (i == 0 and n % 3 == 0) else "medium",
                "package": f"pkg{i}",
                "version": "1.0",
                "fixedVersion": "1.1",
            }
            for i in range(20)
        ]
        name = f"registry.example.com/bench/app{n}"
        body = json.dumps(
            {"imageName": name, "tag": "1.0", "digest": digest_of(n), "findings": findings}
        ).encode()
        delivery, _ = delivery_store(source="generic", body=body, channel="cli")
        delivery_process(delivery=delivery)


def seed_running(images: int, running: int) -> None:
    from django.utils import timezone

    from findings.models import RunningImage

    if RunningImage.objects.count() >= running:
        return
    RunningImage.objects.all().delete()
    now = timezone.now()
    rows = []
    for n in range(running):
        image = n % images
        name = f"registry.example.com/bench/app{image}"
        by_digest = n % 2 == 0
        rows.append(
            RunningImage(
                cluster="bench",
                namespace=f"team-{n % NAMESPACES}",
                kind="Deployment",
                name=f"svc-{n}",
                container="app",
                image_ref=f"{name}@{digest_of(image)}" if by_digest else f"{name}:1.0",
                digest=digest_of(image) if by_digest else "",
                source="inventory",
                first_seen=now,
                last_seen=now,
            )
        )
    RunningImage.objects.bulk_create(rows, batch_size=2000)


def seed_reviews(images: int, reviews: int) -> None:
    from remediator.engine.models import AuditEvent

    existing = AuditEvent.objects.filter(kind="admission").count()
    if existing >= reviews:
        return
    rows = []
    for n in range(existing, reviews):
        image = n % images
        reference = f"registry.example.com/bench/app{image}:1.0"
        namespace = f"team-{n % NAMESPACES}"
        data = {
            "uid": f"bench-{n}",
            "namespace": namespace,
            "kind": "Pod",
            "name": f"pod-{n}",
            "operation": "CREATE",
            "dry_run": False,
            "images": [
                {"container": "app", "image": reference, "digest": digest_of(image)},
            ],
        }
        rows.append(
            AuditEvent(
                kind="admission",
                actor_label="k8s:bench",
                object_type="admission",
                object_id=f"bench-{n}",
                to_state="allow",
                message="allow: no finding matched",
                data=data,
            )
        )
    AuditEvent.objects.bulk_create(rows, batch_size=2000)


def seed_policies(count: int) -> None:
    from remediator.engine.models import AdmissionPolicy

    shapes = [
        {"min_severity": "critical"},
        {"min_severity": "medium", "mode": "warn", "namespace_glob": "team-1*"},
        {"require_digest": True, "mode": "warn"},
        {"min_severity": "high", "image_glob": "registry.example.com/bench/app1*"},
    ]
    for n in range(count):
        AdmissionPolicy.objects.get_or_create(name=f"bench-{n}", defaults=shapes[n % len(shapes)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--running", type=int, default=50_000)
    parser.add_argument("--reviews", type=int, default=20_000)
    parser.add_argument("--policies", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from remediator.engine.admission.in_view import admission_in_view, admission_in_view_cached

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    started = time.perf_counter()
    seed_images(args.images)
    seed_running(args.images, args.running)
    seed_reviews(args.images, args.reviews)
    seed_policies(args.policies)
    print(f"seeded in {time.perf_counter() - started:.1f} s ({connection.vendor})")

    times = []
    for _ in range(args.runs):
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            view = admission_in_view(days=7)
            times.append(time.perf_counter() - t0)
    print(
        f"admission in view: {statistics.median(times):.2f} s median of {args.runs} "
        f"(min {min(times):.2f}, max {max(times):.2f}); {len(queries)} queries; "
        f"{view.containers:,} running containers, {view.reviews:,} allowed reviews judged"
        f"{' (capped)' if view.reviews_capped else ''}, {len(view.policies)} policies"
    )
    admission_in_view_cached(days=7)
    t0 = time.perf_counter()
    admission_in_view_cached(days=7)
    print(f"answered again from the cache: {(time.perf_counter() - t0) * 1000:.0f} ms")
    for row in view.policies:
        print(
            f"  {row.policy.name} ({row.policy.mode}): running {row.running.matched:,} of "
            f"{row.running.judged:,} in {len(row.running.namespaces)} namespaces; reviews "
            f"{row.reviews.matched:,} of {row.reviews.judged:,}"
        )


if __name__ == "__main__":
    main()
