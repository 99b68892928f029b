"""Webhooks while PostgreSQL is down: how many are answered, spooled, lost.

Starts its own PostgreSQL cluster on a free port (never the machine's) and a real
gunicorn, posts distinct Trivy reports at a steady rate, stops PostgreSQL for
``--down`` seconds in the middle, then counts: answers by status, bodies answered
2xx that are not stored after the replay (lost), and bodies stored twice.

    .venv/bin/python bench/spool_outage.py --rate 20 --down 20
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from hashlib import sha256
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv/bin/python")
SECRET = "bench-secret"
FIXTURE = ROOT / "tests/fixtures/trivy/trivy_docs_reporting_alpine_latest.json"
AS_POSTGRES = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(found[-1]) if found else shutil.which(name) or name


def pg_ctl(data: Path, *args: str) -> None:
    subprocess.run(
        [*AS_POSTGRES, pg_bin("pg_ctl"), "-D", str(data), *args],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=20.0, help="posts per second")
    parser.add_argument("--before", type=float, default=10.0)
    parser.add_argument("--down", type=float, default=20.0)
    parser.add_argument("--after", type=float, default=10.0)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="remediator-spool-bench-"))
    root.chmod(0o777)
    data, pg_port, web_port = root / "pg", free_port(), free_port()
    subprocess.run(
        [*AS_POSTGRES, pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = f"-p {pg_port} -k {root} -c listen_addresses=127.0.0.1"
    start = ("-o", options, "-w", "-l", str(root / "pg.log"), "start")
    pg_ctl(data, *start)
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{pg_port}/postgres",
        "DATA_DIR": str(root / "data"),
        "WEBHOOK_SECRET": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "ERROR",
    }
    web = None
    try:
        subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        web = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "remediator.wsgi",
                "--bind",
                f"127.0.0.1:{web_port}",
                "--workers",
                "2",
                "--log-level",
                "error",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{web_port}/api/v1/webhooks/trivy/"
        for _ in range(100):
            try:
                requests.get(f"http://127.0.0.1:{web_port}/healthz", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.1)
        results = run_traffic(url, data, start, args)
        # The database is back: beat would replay within WEBHOOK_SPOOL_REPLAY_INTERVAL;
        # here the command does it (the same function).
        replay = subprocess.run(
            [PY, "manage.py", "spool_replay"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        stored = stored_hashes(env)
        report(results, stored, replay.stdout.strip(), args)
    finally:
        if web is not None:
            os.killpg(web.pid, 15)
            web.wait(10)
        pg_ctl(data, "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def run_traffic(url: str, data: Path, start: tuple, args) -> list[dict]:
    base = json.loads(FIXTURE.read_bytes())
    results: list[dict] = []
    lock = threading.Lock()

    def send(n: int, phase: str) -> None:
        body = json.dumps({**base, "bench_n": n}).encode()
        began = time.monotonic()
        try:
            answer = requests.post(
                url,
                data=body,
                timeout=30,
                headers={"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"},
            )
            status, kind = answer.status_code, answer.headers.get("Content-Type", "")
            spooled = kind.startswith("application/json") and '"spooled"' in answer.text
        except requests.RequestException:
            status, kind, spooled = 0, "", False
        with lock:
            results.append(
                {
                    "n": n,
                    "phase": phase,
                    "status": status,
                    "json": "json" in kind,
                    "spooled": spooled,
                    "sha": sha256(body).hexdigest(),
                    "ms": (time.monotonic() - began) * 1000,
                }
            )

    threads, n, began = [], 0, time.monotonic()
    down_at, up_at = args.before, args.before + args.down
    end_at, state = up_at + args.after, "up"
    while (now := time.monotonic() - began) < end_at:
        if state == "up" and down_at <= now < up_at:
            pg_ctl(data, "-m", "fast", "stop")
            state = "down"
        elif state == "down" and now >= up_at:
            pg_ctl(data, *start)
            state = "back"
        phase = {"up": "before", "down": "down", "back": "after"}[state]
        thread = threading.Thread(target=send, args=(n, phase))
        thread.start()
        threads.append(thread)
        n += 1
        time.sleep(max(0.0, n / args.rate - (time.monotonic() - began)))
    for thread in threads:
        thread.join()
    return results


def stored_hashes(env: dict) -> collections.Counter:
    script = (
        "from findings.models import Delivery; import json; "
        "print(json.dumps(list(Delivery.objects.values_list('sha256', flat=True))))"
    )
    out = subprocess.run(
        [PY, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return collections.Counter(json.loads(out.strip().splitlines()[-1]))


def report(results: list[dict], stored: collections.Counter, replay: str, args) -> None:
    accepted = [r for r in results if 200 <= r["status"] < 300]
    lost = [r for r in accepted if r["sha"] not in stored]
    by_phase: dict = collections.defaultdict(collections.Counter)
    for r in results:
        by_phase[r["phase"]][r["status"]] += 1
    spooled = [r["ms"] for r in results if r["spooled"]]
    direct = [r["ms"] for r in results if r["phase"] == "before" and r["status"] == 202]
    print(f"posts: {len(results)} at {args.rate}/s; PostgreSQL down {args.down} s")
    for phase in ("before", "down", "after"):
        print(f"  {phase:6}: " + ", ".join(f"{k}: {v}" for k, v in sorted(by_phase[phase].items())))
    try:
        counts = {k: len(v) if isinstance(v, list) else v for k, v in json.loads(replay).items()}
    except ValueError:
        counts = replay
    inline = len(spooled) - counts.get("stored", 0) if isinstance(counts, dict) else "?"
    print(
        f"spooled: {len(spooled)}; replayed by later requests: {inline}; then by "
        f"manage.py spool_replay: {counts}"
    )
    print(
        f"answered 2xx: {len(accepted)}; 5xx: {sum(r['status'] >= 500 for r in results)} "
        f"(HTML: {sum(r['status'] >= 500 and not r['json'] for r in results)}); "
        f"no answer: {sum(r['status'] == 0 for r in results)}"
    )
    missing = sum(r["sha"] not in stored for r in results)
    print(
        f"lost (answered 2xx, not stored): {len(lost)}; not stored at all (a sender that does "
        f"not retry loses these): {missing}; stored twice: {sum(c > 1 for c in stored.values())}"
    )
    for name, values in (("stored (before the outage)", direct), ("spooled", spooled)):
        if values:
            values.sort()
            print(
                f"latency {name}: median {values[len(values) // 2]:.0f} ms, "
                f"p95 {values[int(len(values) * 0.95)]:.0f} ms"
            )
    sys.exit(1 if lost else 0)


if __name__ == "__main__":
    main()
