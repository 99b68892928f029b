"""Dashboard pages at scale: p50/p95 per page over a million findings (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/remediator_bench \\
        .venv/bin/python bench/dashboard.py [--findings 1000000] [--runs 20] [--regenerate]

Needs PostgreSQL (the data is generated with INSERT ... SELECT generate_series,
which takes about a minute for a million findings). The database named in
DATABASE_URL is created when missing and is reused between runs; --regenerate
wipes and refills it. Each page is requested --runs times with Django's test
Client as a signed-in superuser; the script prints p50/p95 (ms) and the number
of queries per page. The overview is measured as a visitor sees it in steady
state: its figures were computed by the worker (findings.selectors.overview.overview_refresh,
run here once as beat would), and how long one such refresh takes is printed
separately. The Policies page likewise shows the dry run the worker stored
(remediator.engine.services.dry_run_store.policy_dry_run_refresh, run here once as beat
or the page's button would); its duration is printed as "policy dry run (worker)".
It asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remediator.settings")
os.environ.setdefault("DATA_DIR", str(ROOT / "var" / "bench"))

SIZES = {
    "repositories": 2_000,
    "vulnerabilities": 20_000,
    "packages": 600,
    "deliveries": 50_000,
    "actions": 6_000,
    "audit_events": 200_000,
}
"""The rows beside the findings at ``--scale 1`` (the smoke scales them down)."""
REFRESH_RUNS = 3


def _ensure_database(url: str) -> None:
    import psycopg

    match = re.match(r"postgres(?:ql)?://(?P<base>[^/]*)/(?P<name>[^?]+)", url)
    if not match:
        sys.exit("DATABASE_URL must look like postgres://user@host:port/name")
    with psycopg.connect(f"postgresql://{match['base']}/postgres", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [match["name"]])
        if found.fetchone() is None:
            conn.execute(f'CREATE DATABASE "{match["name"]}"')


STATES = [
    "proposed",
    "awaiting_approval",
    "approved",
    "dispatched",
    "running",
    "succeeded",
    "failed",
    "verified",
    "verification_failed",
    "rejected",
    "cancelled",
    "superseded",
]


def _base_sql(sizes: dict[str, int]) -> list[str]:
    """Repositories, images, tags, deliveries, scans, vulnerabilities."""
    repositories, deliveries = sizes["repositories"], sizes["deliveries"]
    vulnerabilities = sizes["vulnerabilities"]
    return [
        # Repositories, one image and one tag each; ids are 1..N after the TRUNCATE.
        f"""INSERT INTO findings_repository (registry, name, created_at, owner_reason)
            SELECT 'registry.bench.io', 'team' || (i % 40) || '/service-' || i, now(), ''
            FROM generate_series(1, {repositories}) i""",
        f"""INSERT INTO findings_image (repository_id, digest, first_seen)
            SELECT i, 'sha256:' || md5(i::text) || md5((i + 1)::text), now()
            FROM generate_series(1, {repositories}) i""",
        f"""INSERT INTO findings_tag (repository_id, name, image_id, updated_at)
            SELECT i, 'latest', i, now() FROM generate_series(1, {repositories}) i""",
        # Deliveries: most processed, 2% rejected.
        f"""INSERT INTO findings_delivery (source, external_id, sha256, body_gz, size, content_type,
                headers, image_hint, channel, status, error, attempts, received_at, processed_at)
            SELECT 'trivy', '', md5(i::text) || md5((-i)::text),
                '\\x789c030000000001'::bytea, 1000 + i, 'application/json', '{{}}', '', 'webhook',
                CASE WHEN i % 50 = 0 THEN 'rejected' ELSE 'processed' END,
                CASE WHEN i % 50 = 0 THEN 'not JSON: Expecting value at line 1 column 1'
                    ELSE '' END,
                1, now() - (i || ' minutes')::interval, now() - (i || ' minutes')::interval
            FROM generate_series(1, {deliveries}) i""",
        # One scan per processed delivery, spread over the tags.
        f"""INSERT INTO findings_scan (delivery_id, part, source, image_id, tag_id, scanner,
                scanner_key, failure, scanner_scan_id, os, scanned_at, received_at, findings_count,
                severity_counts, superseded, workloads)
            SELECT i, 0, 'trivy', 1 + i % {repositories}, 1 + i % {repositories}, 'Trivy 0.50',
                'trivy:trivy', '', '', 'debian 12', now() - (i || ' minutes')::interval, now(), 500,
                '{{}}', false, '[]'
            FROM generate_series(1, {deliveries}) i WHERE i % 50 <> 0""",
        """UPDATE findings_tag t SET latest_scan_id = s.id, latest_scanned_at = s.scanned_at
            FROM (SELECT DISTINCT ON (tag_id) id, tag_id, scanned_at FROM findings_scan
                  ORDER BY tag_id, scanned_at DESC) s WHERE s.tag_id = t.id""",
        f"""INSERT INTO findings_vulnerability (id, title, description, severity, cvss_score,
                cvss_vector, links, updated_at)
            SELECT 'CVE-2024-' || lpad(i::text, 6, '0'), 'Bench flaw ' || i, repeat('Text. ', 40),
                (ARRAY['critical','high','medium','low','negligible','unknown'])[1 + i % 6],
                (i % 100) / 10.0, '', '[]', now()
            FROM generate_series(1, {vulnerabilities}) i""",
    ]


def _findings_sql(total: int, sizes: dict[str, int]) -> str:
    repositories, packages = sizes["repositories"], sizes["packages"]
    vulnerabilities = sizes["vulnerabilities"]
    # Severity mix: 5% critical, 15% high, 35% medium, 30% low, 10% negligible, 5% unknown.
    # 40% fixed at some point over 120 days; 60% fixable.
    return f"""
    INSERT INTO findings_finding (repository_id, tag_id, vulnerability_id, package,
        installed_version, package_type, fixed_version, fixable, fixable_since, severity,
        severity_rank, cvss_score, vendor_status, locations, status, status_reason, first_seen,
        last_seen, first_scan_id, last_scan_id, fixed_at, fixed_by_scan_id, reopened_count)
    SELECT r, r, 'CVE-2024-' || lpad((1 + i % {vulnerabilities})::text, 6, '0'),
        'pkg' || (i % {packages}), '1.' || i, 'deb',
        CASE WHEN i % 5 < 3 THEN '2.' || i ELSE '' END, i % 5 < 3, NULL,
        (ARRAY['critical','high','high','high','medium','medium','medium','medium','medium',
               'medium','medium','low','low','low','low','low','low','negligible','negligible',
               'unknown'])[1 + i % 20],
        (ARRAY[5,4,4,4,3,3,3,3,3,3,3,2,2,2,2,2,2,1,1,0])[1 + i % 20],
        NULL, '', '[]',
        CASE WHEN fixed THEN 'fixed' ELSE 'open' END, '',
        seen, seen, NULL, NULL,
        CASE WHEN fixed THEN LEAST(now(), seen + make_interval(secs => random() * 2592000))
            END, NULL, 0
    FROM (
        SELECT i, 1 + (i::bigint * 7919) % {repositories} AS r, ((i / 20) % 10) < 4 AS fixed,
            now() - make_interval(secs => random() * 150 * 86400) AS seen
        FROM generate_series(1, {total}) i
    ) g
    """


def _actions_sql(sizes: dict[str, int]) -> list[str]:
    repositories, actions = sizes["repositories"], sizes["actions"]
    audit_events = sizes["audit_events"]
    states = ",".join(f"'{s}'" for s in STATES)
    return [
        f"""INSERT INTO remediator_remediationaction (kind, state, correlation_id, repository_id,
            tag_id, image_id, requires_approval, reason, external_id, external_url,
            provider_state, error, attempts, risky_marked, created_at, updated_at)
        SELECT 'rebuild', (ARRAY[{states}])[1 + i % {len(STATES)}],
            md5(i::text)::uuid, 1 + i % {repositories}, 1 + i % {repositories},
            1 + i % {repositories}, true, '', '', '', '{{}}', '', 0, false,
            now() - (i || ' minutes')::interval, now()
        FROM generate_series(1, {actions}) i
        WHERE (ARRAY[{states}])[1 + i % {len(STATES)}] NOT IN
            ('proposed','awaiting_approval','approved','dispatched','running','succeeded')
           OR i <= {repositories}""",
        """INSERT INTO remediator_remediationaction_findings (remediationaction_id, finding_id)
        SELECT a.id, f.id FROM remediator_remediationaction a
        JOIN LATERAL (SELECT id FROM findings_finding WHERE tag_id = a.tag_id
                      ORDER BY id LIMIT 20) f ON true""",
        f"""INSERT INTO remediator_auditevent (created_at, kind, actor_label, object_type,
            object_id, action_id, from_state, to_state, message, data)
        SELECT now() - (i || ' seconds')::interval,
            (ARRAY['transition','provider_call','approval','notification'])[1 + i % 4],
            (ARRAY['system','alice','bob','provider:gitlab'])[1 + i % 4],
            'remediationaction', a.id::text, a.id, 'approved', 'dispatched',
            'POST https://gitlab.example/api/v4/projects/42/trigger/pipeline -> 201', '{{}}'
        FROM generate_series(1, {audit_events}) i
        JOIN remediator_remediationaction a ON a.id = 1 + i % (SELECT count(*) FROM
            remediator_remediationaction)""",
    ]


def generate(total: int, scale: float = 1.0) -> None:
    from django.db import connection

    sizes = {name: max(20, int(n * scale)) for name, n in SIZES.items()}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE findings_repository, findings_image, findings_tag, findings_delivery, "
            "findings_scan, findings_vulnerability, findings_finding, findings_scanfindingset, "
            "findings_scannerstream, remediator_remediationaction, "
            "remediator_remediationaction_findings, "
            "remediator_approval, remediator_auditevent RESTART IDENTITY CASCADE"
        )
        for statement in [*_base_sql(sizes), _findings_sql(total, sizes), *_actions_sql(sizes)]:
            step = time.perf_counter()
            cursor.execute(statement)
            print(
                f"  {statement.split()[2]:<40} {cursor.rowcount:>9,} rows "
                f"{time.perf_counter() - step:6.1f} s"
            )
    with connection.cursor() as cursor:
        connection.ensure_connection()
        raw = connection.connection
        autocommit = raw.autocommit
        raw.autocommit = True
        cursor.execute("VACUUM ANALYZE")
        raw.autocommit = autocommit
    print(f"Generated in {time.perf_counter() - started:.0f} s")


def pages(deep_page: int = 500) -> list[tuple[str, str]]:
    from findings.models import Delivery, Finding, Repository
    from remediator.engine.models import RemediationAction

    repository = Repository.objects.order_by("id").first()
    finding = Finding.objects.order_by("-id").first()
    action = RemediationAction.objects.order_by("-id").first()
    rejected = Delivery.objects.filter(status="rejected").order_by("-id").first()
    return [
        ("overview 30d", "/"),
        ("overview 90d", "/?days=90"),
        ("images", "/images/"),
        ("images critical+fixable", "/images/?min_severity=critical&fixable=yes"),
        ("image detail", f"/images/{repository.pk}/"),
        ("findings", "/findings/"),
        ("findings page 2", "NEXT:/findings/"),
        ("findings critical", "/findings/?severity=critical"),
        ("findings any status", "/findings/?status="),
        ("findings by package", "/findings/?package=pkg7"),
        ("findings by CVE", "/findings/?cve=CVE-2024-000042"),
        ("findings by image", f"/findings/?image={repository.registry}/{repository.name}"),
        ("findings older 90d", "/findings/?min_age=90"),
        *[(f"{name} p{deep_page}", f"DEEP:{path}") for name, path in DEEP],
        ("finding detail", f"/findings/{finding.pk}/"),
        ("csv (one image)", f"/findings/export.csv?image={repository.registry}/{repository.name}"),
        ("deliveries", "/deliveries/"),
        ("deliveries rejected", "/deliveries/?status=rejected"),
        ("delivery detail", f"/deliveries/{rejected.pk}/"),
        ("actions", "/actions/"),
        ("actions failed tab", "/actions/?tab=failed"),
        ("action detail", f"/actions/{action.pk}/"),
        ("approvals", "/approvals/"),
        ("policies", "/policies/"),
        ("audit", "/audit/"),
        ("audit by actor", "/audit/?actor=alice&kind=approval"),
    ]


DEEP = [
    ("findings", "/findings/"),
    ("findings critical", "/findings/?severity=critical"),
    ("findings any status", "/findings/?status="),
    ("findings older 90d", "/findings/?min_age=90"),
]
DEEP_PAGE = 500


def deep_path(path: str, page: int = DEEP_PAGE) -> str:
    """``path`` with the ``?after=`` cursor of its page ``page`` (as 499 "next" clicks)."""
    from django.http import QueryDict

    from findings.filters import FindingFilter
    from findings.models import Finding
    from remediator.core.keyset import Cursor, encode_cursor
    from remediator.dashboard.common import AFTER, PAGE_SIZE

    query = path.partition("?")[2]
    filterset = FindingFilter(QueryDict(query), queryset=Finding.objects.all(), page=True)
    rows, keys = filterset.sorted(filterset.qs, default="severity")
    names = [k.lstrip("-") for k in keys]
    last = rows.order_by(*keys).values(*names)[(page - 1) * PAGE_SIZE - 1]
    params = QueryDict(query, mutable=True)
    params[AFTER] = encode_cursor(Cursor(tuple(last[name] for name in names)))
    return path.partition("?")[0] + "?" + params.urlencode()


def _count_query(log: list, execute, sql, params, many, context):
    log.append(sql)
    return execute(sql, params, many, context)


def measure(runs: int, deep_page: int = DEEP_PAGE) -> dict[str, dict]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from findings.selectors.overview import overview_refresh

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_superuser": True, "is_staff": True}
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    cache.clear()
    refreshes = []
    for _ in range(REFRESH_RUNS):  # what beat runs in the worker; leaves the figures stored
        started = time.perf_counter()
        overview_refresh()
        refreshes.append((time.perf_counter() - started) * 1000)
    every = settings.DASHBOARD_OVERVIEW_REFRESH_SECONDS
    print(
        f"\noverview refresh (worker, every {every} s): {statistics.median(refreshes):.0f} ms "
        f"(median of {REFRESH_RUNS}; max {max(refreshes):.0f} ms)"
    )
    from remediator.engine.services.dry_run_store import policy_dry_run_refresh

    dry_run = policy_dry_run_refresh()  # what the worker stores for the Policies page
    print(f"policy dry run (worker): {dry_run.seconds:.1f} s")
    print(f"\n{'page':<26} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    results: dict[str, dict] = {}
    for name, path in pages(deep_page):
        if path.startswith("DEEP:"):
            path = deep_path(path[5:], deep_page)
        if path.startswith("NEXT:"):
            first = client.get(path[5:]).content.decode()
            found = re.search(r'href="(\?[^"]*after=[^"]+)" rel="next"', first)
            path = path[5:] + found.group(1).replace("&amp;", "&")
        times = []
        for run in range(runs + 1):
            started = time.perf_counter()
            if run == 0:
                queries: list[str] = []
                with connection.execute_wrapper(partial(_count_query, queries)):
                    response = client.get(path)
                    body = b"".join(response) if response.streaming else response.content
            else:
                response = client.get(path)
                body = b"".join(response) if response.streaming else response.content
                times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                sys.exit(f"{path} answered {response.status_code}")
        del body
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        print(f"{name:<26} {statistics.median(times):8.1f} {p95:8.1f} {len(queries):8d}")
        results[name] = {"p50_ms": statistics.median(times), "p95_ms": p95}
    return results


def prepare(findings: int, *, regenerate: bool, script: str, scale: float = 1.0) -> None:
    """Django set up on DATABASE_URL (PostgreSQL), migrated, holding ``findings`` findings
    (generated when fewer are there, or on ``regenerate``)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            f"{script} needs PostgreSQL: set DATABASE_URL, e.g. "
            "postgres://postgres@127.0.0.1:5432/remediator_bench"
        )
    _ensure_database(url)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    from findings.models import Finding

    have = Finding.objects.order_by().count()
    if regenerate or have < findings:
        print(f"Generating {findings:,} findings (have {have:,})…")
        generate(findings, scale)
    else:
        print(f"Reusing {have:,} findings (--regenerate to rebuild)")


def main(argv: list[str] | None = None) -> dict[str, dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="times the repositories, deliveries, actions…"
    )
    parser.add_argument("--deep-page", type=int, default=DEEP_PAGE, help="the deep page measured")
    args = parser.parse_args(argv)
    script = "bench/dashboard.py"
    prepare(args.findings, regenerate=args.regenerate, script=script, scale=args.scale)
    return measure(args.runs, args.deep_page)


if __name__ == "__main__":
    main()
