"""EPSS import speed: a full-size synthetic EPSS file (gzip), imported twice.

    .venv/bin/python bench/threat_intel.py [--rows 300000] [--batch 5000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/remediator_bench_intel \\
        .venv/bin/python bench/threat_intel.py

The file has the real layout (``#model_version…`` line, ``cve,epss,percentile``,
then --rows rows, like FIRST's ~300,000-row daily file) and is gzipped in memory.
The first import inserts every row, the second updates them all (the daily case).
It prints wall time, rows per second and the process's peak resident memory; it
asserts nothing. The database (SQLite in DATA_DIR=var/bench-intel by default) is
migrated first.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remediator.settings")
os.environ.setdefault("DATA_DIR", str(ROOT / "var" / "bench-intel"))


def epss_file(rows: int, *, day: str) -> bytes:
    rng = random.Random(rows)
    lines = [f"#model_version:v2025.03.14,score_date:{day}T00:00:00+0000", "cve,epss,percentile"]
    for i in range(rows):
        lines.append(
            f"CVE-{1999 + i // 20000}-{i % 20000:05d},{rng.random():.5f},{rng.random():.5f}"
        )
    return gzip.compress(("\n".join(lines) + "\n").encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=5000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from findings.threat_intel.store import epss_import

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}; rows: {args.rows}; batch: {args.batch}")
    print(f"{'import':>8} {'seconds':>8} {'rows/s':>9} {'maxrss MiB':>10} {'gzip MiB':>9}")
    for label, day in (("first", "2026-01-01"), ("second", "2026-01-02")):
        data = epss_file(args.rows, day=day)
        started = time.perf_counter()
        # force: a rerun on the same database imports an "older" day (measured, not judged)
        result = epss_import(stream=io.BytesIO(data), batch_size=args.batch, force=True)
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(
            f"{label:>8} {elapsed:>8.2f} {result.imported / elapsed:>9.0f} "
            f"{peak / 2**20:>10.1f} {len(data) / 2**20:>9.1f}"
        )


if __name__ == "__main__":
    main()
