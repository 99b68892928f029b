"""Scale-out: the fleet workload of part_fleet (scans of 500 findings, 80% unchanged
re-scans, policy evaluation) with 1, 2 and 4 ingest worker processes on PostgreSQL and
Redis, the actions queue served by a worker of its own; then admission reviews at
--rate per second against gunicorn on the same database, alone, during a fleet burst
with every process sharing the cores, and during another with gunicorn on a core of its
own (CPU 0; the burst's workers and the load generator on CPU 1), with the image facts
each review read from the database (the per-process cache's misses, from /metrics).

For each worker count: scans/s and findings/s (findings in the reports processed, 80%
of them unchanged), the CPU seconds of the workers, of PostgreSQL (every process of
the cluster: other databases' work on a shared machine counts too; the seconds this
database's sessions were active, sampled, do not) and of Redis and the
machine's busy share over the run (the bottleneck on a 2-core machine is CPU unless a
wait shows), and what PostgreSQL's active sessions were waiting on (sampled every
0.1 s: a lock or a hot row shows here as Lock waits)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from common import (
    ROOT,
    cpu_seconds,
    machine_busy_seconds,
    named,
    parser,
    pin,
    process_tree,
    setup,
    write,
)
from part_fleet import FINDINGS, celery_worker, fleet_check, fleet_prepare, fleet_send_and_wait

METRICS_TOKEN = "bench-scale-metrics"


class WaitSampler(threading.Thread):
    """Counts what this database's active sessions wait on, every 0.1 s."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.samples = 0
        self.waits: dict[str, int] = {}
        self.queries: dict[str, int] = {}

    def run(self) -> None:
        import psycopg

        url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
        with psycopg.connect(url, autocommit=True) as conn:
            while not self.stop.wait(0.1):
                rows = conn.execute(
                    "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU'), "
                    "left(regexp_replace(query, '\\s+', ' ', 'g'), 90) "
                    "FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'active' AND pid <> pg_backend_pid()"
                ).fetchall()
                self.samples += 1
                for event, query in rows:
                    self.waits[event] = self.waits.get(event, 0) + 1
                    self.queries[query] = self.queries.get(query, 0) + 1

    def top(self, counts: dict[str, int] | None = None) -> dict[str, float]:
        """Mean active sessions per sample in each wait (``CPU``: running, no wait), or
        running each statement (its first 90 characters) with ``counts=self.queries``."""
        ranked = sorted((counts or self.waits).items(), key=lambda item: -item[1])[:6]
        return {event: count / max(1, self.samples) for event, count in ranked}


def analyze() -> None:
    """ANALYZE, as autovacuum would have by now: this machine's PostgreSQL runs with
    autovacuum off, and a plan made on the empty tables' statistics (findings_finding
    thought to hold 300 active rows when it held 150,000) turned one EXISTS of the
    policy run into a 150 ms scan per scan, growing with the table."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measured_fleet(ids: list[int], workers: int) -> dict:
    """The fleet of ``ids`` through ``workers`` ingest processes, beside an actions worker."""
    with (
        celery_worker("actions,housekeeping", 1, name="actions"),
        celery_worker("ingest", workers) as pid,
    ):
        tree = process_tree(pid)
        postgres, redis = named("postgres"), named("redis-server")
        before = [cpu_seconds(tree), cpu_seconds(postgres), cpu_seconds(redis)]
        busy, total = machine_busy_seconds()
        sampler = WaitSampler()
        sampler.start()
        seconds = fleet_send_and_wait(ids)
        sampler.stop.set()
        after = [cpu_seconds(tree), cpu_seconds(named("postgres")), cpu_seconds(redis)]
        busy2, total2 = machine_busy_seconds()
    fleet_check(ids)
    sampler.join()
    workers_cpu, db_cpu, redis_cpu = (b - a for a, b in zip(before, after, strict=True))
    return {
        "scans": len(ids),
        "seconds": seconds,
        "scans_per_s": len(ids) / seconds,
        "findings_per_s": len(ids) * FINDINGS / seconds,
        "workers_cpu_s": workers_cpu,
        "postgres_cpu_s": db_cpu,
        "redis_cpu_s": redis_cpu,
        "machine_busy": (busy2 - busy) / max(1e-9, total2 - total),
        "pg_active_s": sum(sampler.waits.values()) / max(1, sampler.samples) * seconds,
        "pg_waits": sampler.top(),
        "pg_statements": sampler.top(sampler.queries),
    }


class Reviews:
    """Admission reviews sent open-loop at ``rate``/s until stopped (bench/admission.py's
    requests and timing: a request's latency counts from its due time)."""

    def __init__(self, port: int, requests: list[bytes], rate: float) -> None:
        self.port, self.requests, self.rate = port, requests, rate
        self.latencies: list[float] = []
        self.outcomes: dict[str, int] = {}
        self.lock = threading.Lock()

    def one(self, n: int, due: float) -> None:
        from admission import post

        try:
            status, allowed = post(self.port, self.requests[n % len(self.requests)])
            key = str(status) if allowed is None else ("allowed" if allowed else "denied")
        except OSError as error:
            key = type(error).__name__
        with self.lock:
            self.latencies.append((time.perf_counter() - due) * 1000)
            self.outcomes[key] = self.outcomes.get(key, 0) + 1

    def send(self, stop: threading.Event, seconds: float | None = None) -> None:
        """Until ``stop`` is set (or ``seconds`` have passed)."""
        sys.setswitchinterval(0.0005)  # the client's threads must not wait 5 ms for the GIL
        with ThreadPoolExecutor(max_workers=64) as pool:
            t0 = time.perf_counter() + 0.1
            n = 0
            while not stop.is_set() and (seconds is None or n < seconds * self.rate):
                due = t0 + n / self.rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(self.one, n, due)
                n += 1

    def summary(self) -> dict:
        from admission import percentile

        values = self.latencies or [0.0]
        return {
            "reviews": len(self.latencies),
            "p50_ms": statistics.median(values),
            "p99_ms": percentile(values, 0.99),
            "max_ms": max(values),
            "outcomes": self.outcomes,
        }


def cache_lookups(port: int) -> dict[str, float]:
    """The admission facts every gunicorn worker found in its memory (hit) or read from
    the database (miss) so far: ``/metrics``, summed over the workers' files."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    text = conn.getresponse().read().decode()
    conn.close()
    found = {"hit": 0.0, "miss": 0.0}
    for line in text.splitlines():
        if line.startswith("remediator_admission_cache_total{"):
            for result in found:
                if f'result="{result}"' in line:
                    found[result] += float(line.rsplit(" ", 1)[1])
    return found


def reviews_during(
    port: int, requests: list[bytes], args, ids: list[int], cpus: set[int] | None = None
) -> tuple[dict, float]:
    """Reviews at ``args.rate``/s while the fleet burst ``ids`` runs through
    ``args.burst_workers`` ingest processes and an actions worker; with ``cpus``, those
    workers and this process (the load generator, every thread) run on ``cpus`` only.
    (summary with the facts read from the database per review, the burst's scans/s)."""
    before = cache_lookups(port)
    reviews = Reviews(port, requests, args.rate)
    stop = threading.Event()
    sender = threading.Thread(target=reviews.send, args=(stop,))
    allowed = os.sched_getaffinity(0)
    if cpus:
        pin([os.getpid()], cpus)
    try:
        with (
            celery_worker("actions,housekeeping", 1, name="actions", cpus=cpus),
            celery_worker("ingest", args.burst_workers, nice=args.burst_nice, cpus=cpus),
        ):
            sender.start()
            seconds = fleet_send_and_wait(ids)
            stop.set()
            sender.join()
    finally:
        if cpus:
            pin([os.getpid()], allowed)
    fleet_check(ids)
    after = cache_lookups(port)
    summary = reviews.summary()
    misses = after["miss"] - before["miss"]
    summary["db_facts_per_review"] = misses / max(1, summary["reviews"])
    summary["cache_hits"], summary["cache_misses"] = after["hit"] - before["hit"], misses
    return summary, len(ids) / seconds


def admission_during_burst(args, stamp: int) -> dict:
    """gunicorn (2 workers x 4 threads, the Procfile's web) on this database: reviews at
    ``args.rate``/s for ``args.quiet_seconds`` alone, then during a fleet burst through
    ``args.burst_workers`` ingest processes with every process on the machine's cores,
    then during another burst of the same size with gunicorn (master and workers) on CPU
    0 and the ingest workers, the actions worker and the load generator on CPU 1, as
    admission pods on cores of their own would be (PostgreSQL and Redis run where they
    run: shared, as a database server is)."""
    from admission import TOKEN, request_bytes, review, seed, wait_ready

    references = seed(args.images)
    scans = min(args.scans, args.burst_scans)
    bursts = [fleet_prepare(scans, stamp + n) for n in range(2)]
    analyze()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "ADMISSION_TOKEN": TOKEN, "DEBUG": "false"}
    env["ADMISSION_RESOLVE_TAGS"] = "false"  # its images are in no registry
    env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bench-scale-metrics-")
    env["METRICS_TOKEN"] = METRICS_TOKEN
    if args.conn_max_age is not None:
        env["CONN_MAX_AGE"] = str(args.conn_max_age)
    web = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "python:remediator.gunicorn_conf",
         "remediator.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"],
        cwd=ROOT, env=env, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    own_core = len(os.sched_getaffinity(0)) >= 2
    try:
        wait_ready(port, web)
        from admission import post

        requests = [request_bytes(review(ref, n)) for n, ref in enumerate(references)]
        for raw in requests:  # warm: one miss per reference, in whichever process took it
            post(port, raw)
        # The first quiet_seconds still meet images the other process has not seen (its
        # cache is its own): reported apart; "alone" is the next quiet_seconds.
        first = Reviews(port, requests, args.rate)
        first.send(threading.Event(), args.quiet_seconds)
        quiet = Reviews(port, requests, args.rate)
        quiet.send(threading.Event(), args.quiet_seconds)
        shared, shared_rate = reviews_during(port, requests, args, bursts[0])
        if own_core:
            gunicorn_cpu, rest = sorted(os.sched_getaffinity(0))[:2]
            pin(process_tree(web.pid), {gunicorn_cpu})
            pinned, pinned_rate = reviews_during(port, requests, args, bursts[1], {rest})
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait(timeout=30)
        shutil.rmtree(env["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
    result = {
        "rate": args.rate,
        "quiet_first": first.summary(),
        "quiet": quiet.summary(),
        "burst": shared,
        "burst_workers": args.burst_workers,
        "conn_max_age": env.get("CONN_MAX_AGE", "0"),
        "burst_nice": args.burst_nice,
        "burst_scans": len(bursts[0]),
        "burst_scans_per_s": shared_rate,
    }
    if own_core:
        result.update(burst_own_core=pinned, burst_own_core_scans_per_s=pinned_rate)
    return result


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--scans", type=int, default=500)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--rate", type=float, default=200.0, help="admission reviews per second")
    p.add_argument("--images", type=int, default=200, help="images admission reviews ask about")
    p.add_argument("--quiet-seconds", type=float, default=10.0)
    p.add_argument("--burst-workers", type=int, default=2)
    p.add_argument("--burst-scans", type=int, default=100, help="the fleet burst's scans")
    p.add_argument("--burst-nice", type=int, default=0, help="the burst's ingest workers' nice")
    p.add_argument(
        "--conn-max-age", type=int, help="gunicorn's CONN_MAX_AGE (default: as configured)"
    )
    args = p.parse_args()
    setup(fresh=True)
    from remediator.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.client.delete("ingest", "actions", "unacked", "unacked_index")
    result: dict = {"findings": FINDINGS, "cpus": os.cpu_count(), "by_workers": {}}
    result["load_start"] = os.getloadavg()
    stamp = 0
    for run in range(args.runs):
        for workers in args.workers:
            stamp += 1
            ids = fleet_prepare(args.scans, stamp)
            analyze()
            figures = measured_fleet(ids, workers)
            result["by_workers"].setdefault(str(workers), []).append(figures)
            print(f"run {run}: {workers} ingest process(es): {figures}", flush=True)
    result["admission"] = admission_during_burst(args, stamp + 1)
    result["load_end"] = os.getloadavg()
    write(args.out, result)


if __name__ == "__main__":
    main()
