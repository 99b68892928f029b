"""Shared by the bench/part_*.py scripts: the database, Django, the report generator."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remediator.settings")


def setup(*, fresh: bool = False, migrate: bool = True) -> None:
    """Create the DATABASE_URL database when missing (dropped first when ``fresh``),
    set Django up and migrate."""
    import re

    import psycopg

    url = os.environ["DATABASE_URL"]
    match = re.match(r"postgres(?:ql)?://(?P<base>[^/]*)/(?P<name>[^?]+)", url)
    assert match, url
    with psycopg.connect(f"postgresql://{match['base']}/postgres", autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{match["name"]}" WITH (FORCE)')
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [match["name"]])
        if found.fetchone() is None:
            conn.execute(f'CREATE DATABASE "{match["name"]}"')
    import django

    django.setup()
    if not migrate:
        return
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def parser(doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--runs", type=int, default=3)
    return p


def write(path: str, result: dict) -> None:
    Path(path).write_text(json.dumps(result, indent=1))
    print(json.dumps(result))


def rows_written() -> int:
    """Rows inserted + updated + deleted in this database so far (pg_stat, flushed)."""
    import time

    from django.db import connection

    time.sleep(1.1)  # PostgreSQL flushes table statistics about once a second
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables"
        )
        return int(cursor.fetchone()[0])


def _proc_stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # the process ended meanwhile
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def _all_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def process_tree(root: int) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for pid in _all_pids():
        fields = _proc_stat(pid)
        if fields:
            children.setdefault(int(fields[1]), []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def named(comm: str) -> list[int]:
    """The processes whose command name is ``comm`` (postgres, redis-server)."""
    found = []
    for pid in _all_pids():
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == comm:
                found.append(pid)
        except OSError:
            continue
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of ``pids`` and of their children already reaped (so a
    PostgreSQL backend that ended is still counted, in its postmaster)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = _proc_stat(pid)
        if fields:  # utime, stime, cutime, cstime are the 14th to 17th fields
            total += sum(int(x) for x in fields[11:15])
    return total / tick


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    tick = os.sysconf("SC_CLK_TCK")
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / tick, sum(values[:8]) / tick


def pin(pids: list[int], cpus: set[int]) -> None:
    """Run every thread of ``pids`` on ``cpus`` only; threads and processes they start
    later inherit it. A process that ended meanwhile is skipped."""
    for pid in pids:
        try:
            threads = [int(t.name) for t in Path(f"/proc/{pid}/task").iterdir()]
        except OSError:
            continue
        for tid in threads:
            try:
                os.sched_setaffinity(tid, cpus)
            except OSError:
                continue
