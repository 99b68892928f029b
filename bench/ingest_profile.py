"""Where a first ingest's time goes: a new N-finding Trivy report on PostgreSQL, stage by
stage, beside its two floors measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/remediator_bench_profile \\
        .venv/bin/python bench/ingest_profile.py [--findings 20000] [--runs 3] [--synthetic]

The report is shaped as Trivy sends it (part_ingest's --real-shape) unless --synthetic.
Stages, timed one after another as delivery_process runs them: store (SHA-256,
Zstandard, the Delivery row, commit), decode (decompress + JSON), parse, write (scan,
vulnerabilities, findings, witnesses, commit). Floors: ``json.load`` of the file, and a
bare COPY of exactly the rows the ingest wrote (every row whose xmin is one of its
transactions, read back after it), into empty tables with the same columns, defaults and
indexes but no foreign keys, committed. One more ingest runs under cProfile for the
write stage's top functions (its wall time is not counted). The database is dropped
first. Asserts nothing.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import statistics
import time
from pathlib import Path

from common import ROOT, parser, setup, write


def _new_rows(since_xid: int) -> dict[str, bytes]:
    """Every table's rows written by transactions after ``since_xid``, as COPY binary."""
    from django.db import connection

    out: dict[str, bytes] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = 'public' ORDER BY 1"
        )
        for (table,) in cursor.fetchall():
            data = bytearray()
            query = f'COPY (SELECT * FROM "{table}" WHERE xmin::text::bigint > %s) TO STDOUT'
            with cursor.cursor.copy(query.replace("%s", str(int(since_xid)))) as copy:
                for chunk in copy:
                    data += chunk
            if data:
                out[table] = bytes(data)
    return out


def _copy_floor(rows: dict[str, bytes]) -> float:
    """COPY ``rows`` into empty look-alike tables (same indexes, no foreign keys) and commit."""
    from django.db import connection

    names = {table: f"floor_{table}" for table in rows}
    with connection.cursor() as cursor:
        for table, floor in names.items():
            cursor.execute(f'DROP TABLE IF EXISTS "{floor}"')
            cursor.execute(f'CREATE TABLE "{floor}" (LIKE "{table}" INCLUDING ALL)')
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        for table, data in rows.items():
            with cursor.cursor.copy(f'COPY "{names[table]}" FROM STDIN') as copy:
                copy.write(data)
        cursor.execute("COMMIT")
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        for floor in names.values():
            cursor.execute(f'DROP TABLE "{floor}"')
    return elapsed


def _xid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT txid_current()")
        return int(cursor.fetchone()[0]) % 2**32


def _stages(body: bytes) -> dict[str, float]:
    """delivery_process's steps for a report, timed one by one."""
    from findings.parsers import load_body
    from remediator.intake.recognise import report_parse
    from remediator.intake.store import delivery_ingest, delivery_store

    times = {}
    started = time.perf_counter()
    delivery, _ = delivery_store(source="trivy", body=body, channel="cli")
    times["store"] = time.perf_counter() - started
    step = time.perf_counter()
    document = load_body(delivery.source, delivery.body)
    times["decode"] = time.perf_counter() - step
    step = time.perf_counter()
    parsed = report_parse(delivery, document)
    times["parse"] = time.perf_counter() - step
    del document
    step = time.perf_counter()
    delivery_ingest(delivery=delivery, parsed=parsed)
    times["write"] = time.perf_counter() - step
    times["total"] = time.perf_counter() - started
    return times


def _profile_write(body: bytes, top: int = 14) -> str:
    from findings.parsers import load_body
    from remediator.intake.recognise import report_parse
    from remediator.intake.store import delivery_ingest, delivery_store

    delivery, _ = delivery_store(source="trivy", body=body, channel="cli")
    parsed = report_parse(delivery, load_body(delivery.source, delivery.body))
    profile = cProfile.Profile()
    profile.runcall(delivery_ingest, delivery=delivery, parsed=parsed)
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(top)
    return text.getvalue()


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--findings", type=int, default=20_000)
    p.add_argument("--synthetic", action="store_true")
    args = p.parse_args()
    setup(fresh=True)
    from part_ingest import report

    n = args.findings
    path = Path(os.environ.get("DATA_DIR", ROOT / "var")) / "profile-report.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    real = not args.synthetic
    _stages(report(100, f"registry.example.com/warm/w{time.time_ns()}:1", stamp=0, real=real))
    result: dict = {"findings": n, "real_shape": real, "runs": []}
    for run in range(args.runs):
        image = f"registry.example.com/prof/r{run}-{time.time_ns()}:1"
        body = report(n, image, stamp=run, real=real)
        path.write_bytes(body)
        loads = []
        for _ in range(3):
            started = time.perf_counter()
            with path.open("rb") as handle:
                json.load(handle)
            loads.append(time.perf_counter() - started)
        xid = _xid()
        stages = _stages(body)
        rows = _new_rows(xid)
        copy = _copy_floor(rows)
        load = statistics.median(loads)
        figures = {
            "mib": len(body) / 2**20,
            "json_load_s": load,
            "copy_floor_s": copy,
            "rows": {table: data.count(b"\n") for table, data in rows.items()},
            **{f"{k}_s": v for k, v in stages.items()},
            "x_floor": stages["total"] / (load + copy),
        }
        result["runs"].append(figures)
        print(json.dumps(figures), flush=True)
    body = report(n, f"registry.example.com/prof/p{time.time_ns()}:1", stamp=99, real=real)
    result["write_profile"] = _profile_write(body)
    print(result["write_profile"])
    write(args.out, result)


if __name__ == "__main__":
    main()
