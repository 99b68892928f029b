"""Webhook acknowledgement: 32 posts of 2 MiB at once to gunicorn with 2 workers (the
Procfile's web process) on PostgreSQL, then single uncontended posts; with CONN_MAX_AGE as
configured (0 by default: a new PostgreSQL connection per request) and again with
persistent connections (60). Each burst records the CPU seconds gunicorn, PostgreSQL
(every process of the cluster) and this client (its 32 threads sending pre-built bodies)
spent, and the machine's busy seconds: the burst's floor on 2 cores is their sum / 2."""

from __future__ import annotations

import http.client
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import threading
import time

from common import (
    ROOT,
    cpu_seconds,
    machine_busy_seconds,
    named,
    parser,
    process_tree,
    setup,
    write,
)

SECRET = "bench-webhook-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(port: int, body: bytes) -> tuple[int, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(
        "POST",
        "/api/v1/webhooks/trivy/",
        body=body,
        headers={"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, time.perf_counter() - started


def _bodies(count: int, size: int, tag: str) -> list[bytes]:
    from ingest import trivy_report

    findings = size // 430
    return [
        trivy_report(findings, image=f"registry.example.com/hook/{tag}{i}-{time.time_ns()}:1",
                     digest="sha256:" + "4" * 64)
        for i in range(count)
    ]  # fmt: skip


def _burst(port: int, bodies: list[bytes]) -> tuple[list[int], list[float]]:
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[int, float]] = [(0, 0.0)] * len(bodies)

    def one(i: int) -> None:
        barrier.wait()
        results[i] = _post(port, bodies[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r[0] for r in results], [r[1] for r in results]


def _measure(args, conn_max_age: str) -> dict:
    """gunicorn (``args.workers`` x ``args.threads``) with CONN_MAX_AGE=``conn_max_age``:
    ``args.runs`` bursts, each with the CPU seconds gunicorn, PostgreSQL (every process of
    the cluster) and this client spent on it, then single posts."""
    port = _free_port()
    env = {**os.environ, "WEBHOOK_SECRET_TRIVY": SECRET, "ALLOWED_HOSTS": "127.0.0.1"}
    env["CONN_MAX_AGE"] = conn_max_age
    web = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "python:remediator.gunicorn_conf",
         "remediator.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
         "--threads", str(args.threads), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    result: dict = {"posts": args.posts, "web_workers": args.workers, "statuses": {}}
    result.update(threads=args.threads, conn_max_age=conn_max_age, cpu_s=[])
    result["cache"] = "Redis" if env.get("CACHE_URL", "").startswith("redis") else "database"
    result.update(body_mib=args.size / 2**20, burst_p50_s=[], burst_p99_s=[], single_s=[])
    result["json_load_s"] = []
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        _post(port, _bodies(1, 1000, "warm")[0])  # both workers import everything
        _burst(port, _bodies(args.workers * 2, 1000, "warm"))
        for run in range(args.runs):
            bodies = _bodies(args.posts, args.size, f"burst{run}-{conn_max_age}-")
            started = time.perf_counter()
            json.loads(bodies[0])
            result["json_load_s"].append(time.perf_counter() - started)
            before = _cpu(web.pid)
            statuses, times = _burst(port, bodies)
            result["cpu_s"].append({k: v - before[k] for k, v in _cpu(web.pid).items()})
            times.sort()
            result["burst_p50_s"].append(statistics.median(times))
            result["burst_p99_s"].append(times[min(len(times) - 1, round(0.99 * len(times)))])
            for code in statuses:
                result["statuses"][str(code)] = result["statuses"].get(str(code), 0) + 1
            singles = [
                _post(port, b)[1] for b in _bodies(5, args.size, f"one{run}-{conn_max_age}-")
            ]
            result["single_s"].append(statistics.median(singles))
            time.sleep(1)
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait(timeout=30)
    return result


def _cpu(web: int) -> dict[str, float]:
    """CPU seconds so far: gunicorn's tree, PostgreSQL's processes, this client (every
    thread), the whole machine (busy)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "gunicorn": cpu_seconds(process_tree(web)),
        "postgres": cpu_seconds(named("postgres")),
        "client": usage.ru_utime + usage.ru_stime,
        "machine": machine_busy_seconds()[0],
    }


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--posts", type=int, default=32)
    p.add_argument("--size", type=int, default=2 * 2**20)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "4")))
    args = p.parse_args()
    setup(fresh=True)
    result = _measure(args, os.environ.get("CONN_MAX_AGE", "0"))
    result["persistent"] = _measure(args, "60")
    write(args.out, result)


if __name__ == "__main__":
    main()
