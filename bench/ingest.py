"""Ingestion speed: parse + ingest reports of growing size, print time and statements.

    .venv/bin/python bench/ingest.py [--sizes 100 1000 5000 20000] [--runs 3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/remediator_bench_ingest \\
        .venv/bin/python bench/ingest.py

Each report is a Trivy SchemaVersion 2 document with N distinct findings for one
image. For every size it ingests a first scan (all findings new), then a second
scan of the same tag with half of them gone (updates + closes), through the same
services the webhook uses (delivery_store + delivery_process). It prints wall
time, findings per second and the number of SQL statements; it asserts nothing.
The database (SQLite in DATA_DIR=var/bench-ingest by default) is migrated
first; every run uses a new image name, so earlier runs do not matter.
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
os.environ.setdefault("DATA_DIR", str(ROOT / "var" / "bench-ingest"))


def trivy_report(size: int, *, image: str, digest: str, keep: int | None = None) -> bytes:
    vulns = [
        {
            "VulnerabilityID": f"CVE-2026-{i:05d}",
            "PkgName": f"pkg{i % 700}",
            "InstalledVersion": f"1.{i // 700}.0",
            "FixedVersion": f"1.{i // 700}.1",
            "Severity": ("CRITICAL", "HIGH", "MEDIUM", "LOW")[i % 4],
            "PkgIdentifier": {"PURL": f"pkg:deb/debian/pkg{i % 700}@1.{i // 700}.0"},
            "Title": f"Synthetic vulnerability {i}",
            "Description": "A benchmark finding. " * 5,
            "References": [f"https://example.invalid/CVE-2026-{i:05d}"],
        }
        for i in range(size if keep is None else keep)
    ]
    return json.dumps(
        {
            "SchemaVersion": 2,
            "ArtifactName": image,
            "ArtifactType": "container_image",
            "Metadata": {"RepoDigests": [f"{image.split(':')[0]}@{digest}"], "RepoTags": [image]},
            "Results": [
                {"Target": image, "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": vulns}
            ],
        }
    ).encode()


def measure(body: bytes) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from remediator.intake.receive import delivery_process
    from remediator.intake.store import delivery_store

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        delivery, _ = delivery_store(source="trivy", body=body, channel="cli")
        result = delivery_process(delivery=delivery)
        elapsed = time.perf_counter() - started
    return elapsed, len(queries.captured_queries), result.findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000, 20000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}")
    print(f"{'findings':>9} {'scan':>7} {'p50 s':>8} {'findings/s':>11} {'statements':>11}")
    for size in args.sizes:
        for label, keep in (("first", None), ("second", size // 2)):
            times, statements = [], 0
            for run in range(args.runs):
                image = f"registry.example.com/bench/{label}-{size}-{run}-{time.time_ns()}:1"
                if label == "second":
                    measure(trivy_report(size, image=image, digest="sha256:" + "1" * 64))
                body = trivy_report(size, image=image, digest="sha256:" + "2" * 64, keep=keep)
                elapsed, statements, _ = measure(body)
                times.append(elapsed)
            p50 = statistics.median(times)
            print(f"{size:>9} {label:>7} {p50:>8.3f} {size / p50:>11.0f} {statements:>11}")


if __name__ == "__main__":
    main()
