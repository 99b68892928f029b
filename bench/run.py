"""`make bench`: every speed goal of issue 12 beside its floor, measured in the same run.

    .venv/bin/python bench/run.py [--runs 3] [--fleet-scans 500] [--skip dashboard ...]

Runs against PostgreSQL (postgres://postgres@127.0.0.1:5432/<db>, trust auth; each part
uses its own database, created when missing: remediator_bench_<part>) and Redis
(127.0.0.1:6379, db 9). Each part runs in its own process (its own DATABASE_URL) and
hands back JSON; this script prints ONE table and writes bench/results.json. Figures are
medians of --runs; floors (json.load of the same file, PostgreSQL COPY of the same rows,
a naive per-row ORM loop) are measured in the same run. Nothing here asserts.

`--smoke` (`make bench-smoke`, run by .ci/run) runs every part at tiny sizes, once, so
that a part that no longer runs is seen the day it breaks: its own databases
(remediator_bench_smoke_<part>, reused), Redis db 10, its table in var/bench-smoke.json
(bench/results.json untouched). Its figures mean nothing; it asserts only that every
part ran.

The fleet day (10,000 scans x 500 findings, 80% unchanged re-scans, through real Celery
workers, policy evaluation included) runs --fleet-scans of them with each of
--fleet-workers worker processes (1 and 2); below 10,000 it extrapolates linearly (the
table says so). `--fleet-scans 10000 --fleet-workers 2` measures the whole day once. The
scale part runs --scale-scans (500) with 1, 2 and 4 processes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/9")
SMOKE_REDIS = os.environ.get("BENCH_SMOKE_REDIS", "redis://127.0.0.1:6379/10")
PARTS = (
    "ingest", "ingest_real", "memory", "memory_real", "webhook", "fleet", "scale", "dashboard"
)  # fmt: skip
SCRIPTS = {"ingest_real": "ingest", "memory_real": "memory"}
"""Parts that run another part's script with other arguments."""
DEFECTDOJO = "17-36 findings/s (DefectDojo's published import figures)"


def label(part: str, smoke: bool = False) -> str:
    """The part's name in its database, data directory and result file."""
    return f"smoke_{part}" if smoke else part


def part_env(part: str, smoke: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{PG}/remediator_bench_{label(part, smoke)}",
        CELERY_BROKER_URL=SMOKE_REDIS if smoke else REDIS,
        DATA_DIR=str(ROOT / "var" / f"bench-{label(part, smoke)}"),
        DJANGO_SETTINGS_MODULE="remediator.settings",
        LOG_LEVEL="WARNING",
        DJANGO_LOG_LEVEL="WARNING",
    )
    if part in ("fleet", "scale", "webhook"):  # as deployed (Compose, Helm): the cache in Redis
        env["CACHE_URL"] = env["CELERY_BROKER_URL"].replace("redis://", "rediscache://", 1)
    return env


def result_path(part: str, smoke: bool = False) -> Path:
    return ROOT / "var" / f"bench-{label(part, smoke)}.json"


def run_part(part: str, args: list[str], smoke: bool = False) -> dict:
    out = result_path(part, smoke)
    out.parent.mkdir(parents=True, exist_ok=True)
    script = ROOT / "bench" / f"part_{SCRIPTS.get(part, part)}.py"
    command = [sys.executable, str(script), "--out", str(out), *args]
    print(f"== {part}: {' '.join(command[1:])}", flush=True)
    subprocess.run(command, env=part_env(part, smoke), check=True, cwd=ROOT)
    return json.loads(out.read_text())


def last_result(part: str) -> dict:
    return json.loads(result_path(part).read_text())


def med(values: list[float]) -> float:
    return statistics.median(values)


def ingest_rows(ing: dict, shape: str) -> list[tuple[str, str, str, str]]:
    """The ingest part's rows; ``shape``: synthetic findings, or real Trivy entries' fields."""
    load = med(ing["json_load_s"])
    first = med(ing["first_s"])
    again = med(ing["rescan_s"])
    n = ing["findings"]
    return [
        (
            f"first ingest, {n:,}-finding Trivy report, {shape} (store+decode+parse+write)",
            f"{first:.2f} s = {first / load:.1f}x json.load = "
            f"{first / (load + med(ing['copy_s'])):.1f}x json.load + COPY; "
            f"{n / first:,.0f} findings/s",
            f"json.load {load * 1000:.0f} ms; COPY of the same rows "
            f"{n / med(ing['copy_s']):,.0f} rows/s; naive ORM loop "
            f"{med(ing['orm_rows_per_s']):,.0f} rows/s; {DEFECTDOJO}",
            "<= 1.5x json.load + COPY (issue 23; COPY of the finding rows only: "
            "bench/ingest_profile.py copies every row written)",
        ),
        (
            f"unchanged re-scan of the same {n:,} findings",
            f"{again:.2f} s = {again / load:.1f}x json.load; "
            f"{med(ing['rescan_rows_written']):,.0f} rows written",
            f"json.load {load * 1000:.0f} ms; before: 40,004 rows written",
            "<= 2x json.load; O(1) rows",
        ),
        (
            f"re-scan with 1% of {n:,} findings changed",
            f"{med(ing['changed_s']):.2f} s; {med(ing['changed_rows_written']):,.0f} rows written",
            f"{n // 100} findings changed, {n // 100} new",
            "O(changed) rows",
        ),
    ]


def scale_rows(scale: dict | None) -> list[tuple[str, str, str, str]]:
    """The scale part: scans/s per ingest worker count, and admission during a burst."""
    if not scale:
        return []
    rows = []
    by = {int(k): v for k, v in scale["by_workers"].items()}
    one = statistics.median(r["scans_per_s"] for r in by[min(by)])
    for workers, runs in sorted(by.items()):
        rate = statistics.median(r["scans_per_s"] for r in runs)
        mid = sorted(runs, key=lambda r: r["scans_per_s"])[len(runs) // 2]
        waits = ", ".join(f"{k} {v:.1f}" for k, v in list(mid["pg_waits"].items())[:4])
        rows.append(
            (
                f"scale-out: fleet workload, {workers} ingest process(es) + 1 actions worker, "
                f"{mid['scans']} scans x {scale['findings']} findings, {scale['cpus']} cores",
                f"{rate:.1f} scans/s, {rate * scale['findings']:,.0f} findings/s "
                f"({rate / one:.2f}x 1 process); CPU s: workers {mid['workers_cpu_s']:.1f}, "
                f"PostgreSQL {mid['postgres_cpu_s']:.1f} (its sessions active "
                f"{mid.get('pg_active_s', 0):.1f} s), Redis {mid['redis_cpu_s']:.1f}; "
                f"machine busy {mid['machine_busy']:.0%}; PostgreSQL sessions: {waits}",
                f"1 process: {one:.1f} scans/s",
                f"{workers}x 1 process while cores last",
            )
        )
    adm = scale.get("admission")
    if adm:
        quiet = adm["quiet"]
        alone = f"no burst, same server: p50 {quiet['p50_ms']:.0f} ms, p99 {quiet['p99_ms']:.0f} ms"
        if "quiet_first" in adm:  # each gunicorn process meets each image once
            alone += f" (its first {adm['quiet_first']['reviews']:,} reviews: p99 "
            alone += f"{adm['quiet_first']['p99_ms']:.0f} ms)"
        rows.append(
            (
                f"admission at {adm['rate']:.0f} reviews/s during a fleet burst "
                f"({adm['burst_workers']} ingest processes, {adm['burst_scans']} scans), "
                f"gunicorn 2 x 4 threads, PostgreSQL, CONN_MAX_AGE={adm.get('conn_max_age', 0)}, "
                "every process on the shared cores",
                _reviews(adm["burst"], adm["burst_scans_per_s"]),
                alone,
                "stays fast: p99 <= 100 ms",
            )
        )
        pinned = adm.get("burst_own_core")
        if pinned:
            rows.append(
                (
                    "admission p99 during a burst, own core: the same, gunicorn (master and "
                    "workers) on CPU 0, the ingest and actions workers and the load generator "
                    "on CPU 1, PostgreSQL and Redis shared",
                    _reviews(pinned, adm["burst_own_core_scans_per_s"]),
                    alone,
                    "p99 <= 100 ms",
                )
            )
    return rows


def _reviews(summary: dict, scans_per_s: float) -> str:
    """An admission measurement: latencies, outcomes, database reads, the burst's rate."""
    reads = summary.get("db_facts_per_review")
    read = "" if reads is None else f"; image facts read from the database {reads:.2f} per review"
    return (
        f"p50 {summary['p50_ms']:.0f} ms, p99 {summary['p99_ms']:.0f} ms, max "
        f"{summary['max_ms']:.0f} ms over {summary['reviews']} reviews {summary['outcomes']}"
        f"{read}; the burst meanwhile {scans_per_s:.1f} scans/s"
    )


def webhook_row(web: dict) -> tuple[str, str, str, str]:
    """A webhook burst: latencies, and where the CPU went (medians over the runs)."""
    cpu = {k: med([run[k] for run in web["cpu_s"]]) for k in web.get("cpu_s", [{}])[0]}
    spent = (
        f"; CPU s per burst: gunicorn {cpu['gunicorn']:.2f}, PostgreSQL {cpu['postgres']:.2f}, "
        f"client {cpu['client']:.2f}, machine busy {cpu['machine']:.2f} (2 cores: floor "
        f"{(cpu['gunicorn'] + cpu['postgres'] + cpu['client']) / 2:.2f} s)"
        if cpu
        else ""
    )
    return (
        f"webhook burst: {web['posts']} x {web['body_mib']:.0f} MiB at once, "
        f"{web['web_workers']} web workers x {web.get('threads', 4)} threads, "
        f"CONN_MAX_AGE={web.get('conn_max_age', 0)}, cache {web.get('cache', 'database')}",
        f"p50 {med(web['burst_p50_s']):.2f} s, p99 {med(web['burst_p99_s']):.2f} s; "
        f"statuses {web['statuses']}{spent}",
        f"one uncontended post {med(web['single_s']) * 1000:.0f} ms; json.load of the "
        f"body {med(web['json_load_s']) * 1000:.0f} ms",
        "all 202, p99 <= 0.5 s",
    )


def table(results: dict) -> list[tuple[str, str, str, str]]:
    """(measure, figure, floor measured in the same run, goal)."""
    rows = []
    for part, shape in (("ingest", "synthetic"), ("ingest_real", "real-shaped")):
        if results.get(part):
            rows += ingest_rows(results[part], shape)
    for part, shape in (("memory", "synthetic"), ("memory_real", "real-shaped")):
        mem = results.get(part)
        if not mem:
            continue
        size = mem["report_mib"]
        rows.append(
            (
                f"peak memory ingesting a {size:.0f} MiB {shape} report "
                f"({mem['findings']:,} findings)",
                f"{mem['peak_mib']:.0f} MiB (baseline {mem['baseline_mib']:.0f} MiB: "
                f"{(mem['peak_mib'] - mem['baseline_mib']) / size:.1f}x the report)",
                f"the report: {size:.0f} MiB",
                "<= 2.5x report + baseline",
            )
        )
    web = results.get("webhook")
    if web:
        rows += [webhook_row(web)]
        if web.get("persistent"):
            rows += [webhook_row(web["persistent"])]
        rows += [
            (
                f"single {web['body_mib']:.0f} MiB post",
                f"{med(web['single_s']) * 1000:.0f} ms",
                f"json.load {med(web['json_load_s']) * 1000:.0f} ms",
                "<= 100 ms",
            ),
        ]
    fleet = results.get("fleet")
    if fleet:
        for workers, runs in sorted(fleet["by_workers"].items()):
            seconds = med(runs)
            day = seconds * 10_000 / fleet["scans"]
            whole = fleet["scans"] >= 10_000
            rows.append(
                (
                    f"fleet day, {workers} worker process(es): {fleet['scans']:,} scans x "
                    f"{fleet['findings']} findings (80% unchanged), policy included",
                    f"{seconds:.1f} s = {fleet['scans'] / seconds:.1f} scans/s; "
                    + (
                        f"10,000 scans measured: {day / 60:.1f} min"
                        if whole
                        else f"10,000 scans extrapolated: {day / 60:.1f} min"
                    ),
                    f"before: about 1 hour; {fleet['scans']:,} of 10,000 scans measured",
                    "<= 5 min, all 10,000 measured",
                )
            )
    rows += scale_rows(results.get("scale"))
    dash = results.get("dashboard")
    if dash:
        plan = results.get("plan", {})
        deep, million = plan.get("deep_page", 500), plan.get("dashboard_findings", 1_000_000)
        at = f"{million / 1e6:g}M findings" if million >= 100_000 else f"{million:,} findings"
        worst = max(dash.values(), key=lambda r: r["p95_ms"])
        worst_name = next(k for k, v in dash.items() if v is worst)
        for name in ("findings", "findings critical", "findings any status", "findings older 90d"):
            if name in dash and f"{name} p{deep}" in dash:
                ratio = dash[f"{name} p{deep}"]["p50_ms"] / dash[name]["p50_ms"]
                rows.append(
                    (
                        f"dashboard {name}: page {deep} vs page 1 ({at})",
                        f"{dash[f'{name} p{deep}']['p50_ms']:.0f} ms vs {dash[name]['p50_ms']:.0f} "
                        f"ms = {ratio:.2f}x",
                        "page 1 of the same filter",
                        "<= 1.5x",
                    )
                )
        rows.append(
            (
                f"dashboard: slowest page p95 ({at})",
                f"{worst['p95_ms']:.0f} ms ({worst_name})",
                f"{len(dash)} pages measured",
                "<= 300 ms",
            )
        )
    return rows


def render(rows: list[tuple[str, str, str, str]]) -> str:
    head = ("measure", "figure (median)", "floor, same run", "goal")
    lines = ["| " + " | ".join(head) + " |", "|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


SMOKE = {
    "runs": 1,
    "findings": 200,
    "fleet_scans": 10,
    "scale_scans": 10,
    "dashboard_findings": 5_000,
    "dashboard_scale": 0.01,
    "deep_page": 3,
}
"""`--smoke`: every part at sizes that take seconds."""


def plan_of(args: argparse.Namespace) -> dict[str, list[str]]:
    """Each part's arguments."""
    runs = ["--runs", str(args.runs)]
    findings = ["--findings", str(args.findings)]
    smoke = args.smoke
    return {
        "ingest": [*runs, *findings],
        "ingest_real": [*runs, *findings, "--real-shape"],
        "memory": ["--findings", "2000"] if smoke else [],
        "memory_real": ["--findings", "400" if smoke else "20000", "--real-shape"],
        "webhook": [*runs, "--posts", "4", "--size", "100000"] if smoke else runs,
        "fleet": [*runs, "--scans", str(args.fleet_scans),
                  "--workers", *map(str, args.fleet_workers)],
        "scale": [*runs, "--scans", str(args.scale_scans)]
        + (["--rate", "20", "--images", "10", "--quiet-seconds", "2"] if smoke else []),
        "dashboard": [
            "--runs", "1" if smoke else "20", "--findings", str(args.dashboard_findings),
            "--scale", str(args.dashboard_scale), "--deep-page", str(args.deep_page),
        ],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--findings", type=int, default=20_000)
    parser.add_argument("--fleet-scans", type=int, default=500)
    parser.add_argument("--fleet-workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--scale-scans", type=int, default=500)
    parser.add_argument("--dashboard-findings", type=int, default=1_000_000)
    parser.add_argument("--dashboard-scale", type=float, default=1.0)
    parser.add_argument("--deep-page", type=int, default=500)
    parser.add_argument("--skip", nargs="*", default=[], choices=PARTS)
    parser.add_argument(
        "--reuse", nargs="*", default=[], choices=PARTS, help="take these parts' last results"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="every part at tiny sizes, once (CI); see above"
    )
    args = parser.parse_args()
    if args.smoke:
        parser.set_defaults(**SMOKE)
        args = parser.parse_args()
        args.reuse = []  # a smoke runs every part it does not skip
    load_start = os.getloadavg()
    results: dict = {
        part: last_result(part) if part in args.reuse else run_part(part, extra, args.smoke)
        for part, extra in plan_of(args).items()
        if part not in args.skip
    }
    results["plan"] = {"dashboard_findings": args.dashboard_findings, "deep_page": args.deep_page}
    results["load_average"] = {"start": load_start, "end": os.getloadavg()}
    # bench/ingest.py's statements per report, on PostgreSQL
    if "ingest" not in args.skip and "ingest" not in args.reuse:
        sizes = sorted({min(100, args.findings), min(1000, args.findings), args.findings})
        sizes = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "ingest.py"), "--sizes", *map(str, sizes),
             "--runs", "1"],
            env=part_env("ingest", args.smoke), check=True, cwd=ROOT, capture_output=True,
            text=True,
        ).stdout  # fmt: skip
        print(sizes)
        results["ingest_sizes"] = sizes
    text = render(table(results))
    if args.smoke:
        text = "SMOKE RUN: tiny sizes, one run each; these figures mean nothing.\n\n" + text
    load = results["load_average"]
    text += (
        f"\n\n{os.cpu_count()} CPUs; load average (1, 5, 15 min) at the start "
        f"{' '.join(f'{x:.2f}' for x in load['start'])}, at the end "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print("\n" + text)
    results["table"] = text
    out = ROOT / "var" / "bench-smoke.json" if args.smoke else ROOT / "bench" / "results.json"
    out.write_text(json.dumps(results, indent=1, default=str))
    print(f"written: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
