"""Search, sorting and counts at scale (PostgreSQL): figures, not asserts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/remediator_bench_search \\
        .venv/bin/python bench/search.py [--findings 200000] [--runs 10] [--regenerate]

Fills the database as bench/dashboard.py does (its generator; reused between runs),
then prints p50/p95 (ms) of the search page for each kind of text, of the API's
findings list with ``q`` and with each ``sort``, and of ``list_count`` (exact up to
10,000 rows, PostgreSQL's estimate past that) for small and large lists.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remediator.settings")
os.environ.setdefault("DATA_DIR", str(ROOT / "var" / "bench"))

from bench.dashboard import prepare  # noqa: E402

REQUESTS = [
    ("search: exact CVE", "/search/?q=CVE-2024-001234"),
    ("search: CVE part", "/search/?q=2024-0012"),
    ("search: package", "/search/?q=pkg12"),
    ("search: image", "/search/?q=service-77"),
    ("search: image:tag", "/search/?q=team3/service-43:latest"),
    ("search: digest start", "DIGEST"),
    ("search: free text", "/search/?q=Bench flaw 99"),
    ("search: no match", "/search/?q=zzzz-nothing"),
    ("api findings ?q=pkg12", "/api/v1/findings/?q=pkg12&page_size=50"),
    ("api findings ?q=service-77", "/api/v1/findings/?q=service-77&page_size=50"),
    ("page findings sort=severity", "/findings/?sort=severity"),
    ("page findings sort=-severity", "/findings/?sort=-severity"),
    ("page findings sort=risk", "/findings/?sort=risk"),
    ("page findings sort=-newest", "/findings/?sort=-newest"),
    ("page images sort=-name", "/images/?sort=-name"),
    ("page actions sort=state", "/actions/?sort=state"),
]


def _time(call, runs: int) -> tuple[float, float]:
    call()  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def measure(runs: int) -> dict[str, dict]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from findings.models import Finding, Image
    from remediator.core.counting import list_count

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_superuser": True, "is_staff": True}
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    digest = Image.objects.order_by("pk").values_list("digest", flat=True).first()
    results: dict[str, dict] = {}
    print(f"\n{'what':<34} {'p50 ms':>8} {'p95 ms':>8}")

    def record(name: str, call) -> None:
        p50, p95 = _time(call, runs)
        results[name] = {"p50_ms": round(p50, 1), "p95_ms": round(p95, 1)}
        print(f"{name:<34} {p50:8.1f} {p95:8.1f}")

    for name, path in REQUESTS:
        path = f"/search/?q={digest[7:19]}" if path == "DIGEST" else path

        def get(path=path):
            response = client.get(path)
            if response.status_code != 200:
                sys.exit(f"{path} answered {response.status_code}")

        record(name, get)
    counts = [
        ("count: all findings", Finding.objects.all()),
        ("count: open findings", Finding.objects.open()),
        ("count: open critical", Finding.objects.open().filter(severity_rank=5)),
        ("count: one package", Finding.objects.filter(package="pkg7")),
        ("count: one CVE", Finding.objects.filter(vulnerability_id="CVE-2024-000042")),
    ]
    for name, queryset in counts:
        record(name, lambda q=queryset: list_count(q))
        print(f"{'':<34} -> {list_count(queryset)} (exact: {queryset.count():,})")
    return results


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    prepare(args.findings, regenerate=args.regenerate, script="bench/search.py")
    measure(args.runs)


if __name__ == "__main__":
    main()
