"""Admission webhook latency at a fixed request rate against a running gunicorn.

    .venv/bin/python bench/admission.py [--rate 200] [--seconds 20] [--images 200]
        [--workers 2] [--threads 4]

Seeds a SQLite database in DATA_DIR=var/bench-admission (images scanned with 20
findings each, a critical one in every third image, an enforcing admission policy and
open rebuilds), starts gunicorn (``--workers`` processes of ``--threads`` threads, no
access log) with ADMISSION_TOKEN set, warms the verdict cache with one review per
image, then sends real AdmissionReview bodies (the Pod of
tests/fixtures/admission/pod_alpine_3_10.json, one image each, tag and digest
references mixed) at ``--rate`` per second, open loop: each request is due at its
slot and its latency is counted from that slot, so a server that falls behind shows
its queueing. Prints p50/p95/p99/max, the outcomes, and the machine's load (the
figure depends on what else runs). It asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA_DIR = ROOT / "var" / "bench-admission"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remediator.settings")
os.environ.setdefault("DATA_DIR", str(DATA_DIR))
TOKEN = "bench-admission-token"
POD = json.loads((ROOT / "tests" / "fixtures" / "admission" / "pod_alpine_3_10.json").read_text())


def seed(images: int) -> list[str]:
    """The references to review (scanned images, by tag and by digest)."""
    import django

    django.setup()
    from django.core.management import call_command

    from findings.models import Tag
    from remediator.engine.models import AdmissionPolicy, RemediationAction
    from remediator.intake.receive import delivery_process
    from remediator.intake.store import delivery_store

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    AdmissionPolicy.objects.get_or_create(
        name="bench-critical", defaults={"min_severity": "critical"}
    )
    references = []
    for n in range(images):
        name, digest = f"registry.example.com/bench/app{n}", "sha256:" + f"{n + 1:064x}"
        references += [f"{name}:1.0", f"{name}@{digest}"]
        if Tag.objects.filter(repository__name=f"bench/app{n}").exists():
            continue
        findings = [
            {
                "id": f"CVE-2024-{n:04d}{i:02d}",
                "severity": "critical" if (i == 0 and n % 3 == 0) else "medium",
                "package": f"pkg{i}",
                "version": "1.0",
                "fixedVersion": "1.1",
            }
            for i in range(20)
        ]
        body = json.dumps(
            {"imageName": name, "tag": "1.0", "digest": digest, "findings": findings}
        ).encode()
        delivery, _ = delivery_store(source="generic", body=body, channel="cli")
        scan = delivery_process(delivery=delivery).scan
        if n % 3 == 0:
            tag = Tag.objects.get(pk=scan.tag_id)
            RemediationAction.objects.get_or_create(
                kind="rebuild",
                tag=tag,
                defaults={
                    "state": "awaiting_approval",
                    "repository_id": tag.repository_id,
                    "image_id": scan.image_id,
                },
            )
    return references


def review(reference: str, n: int) -> bytes:
    body = json.loads(json.dumps(POD))
    body["request"]["uid"] = f"bench-{n}"
    body["request"]["object"]["spec"]["containers"][0]["image"] = reference
    return json.dumps(body).encode()


def request_bytes(body: bytes) -> bytes:
    """The whole HTTP request, built before the run: the client spends no CPU on it."""
    head = (
        "POST /api/v1/admission/validate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def post(port: int, raw: bytes) -> tuple[int, bool | None]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if status != 200:
        return status, None
    return status, b'"allowed":true' in body.replace(b" ", b"")


def wait_ready(port: int, process: subprocess.Popen) -> None:
    for _ in range(200):
        if process.poll() is not None:
            sys.exit("gunicorn exited")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    sys.exit("gunicorn did not start")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gthread threads per worker")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    references = seed(args.images)
    env = {**os.environ, "ADMISSION_TOKEN": TOKEN, "DATA_DIR": str(DATA_DIR), "DEBUG": "false"}
    env.setdefault("ADMISSION_RESOLVE_TAGS", "false")  # its images are in no registry
    gunicorn = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "--config", "python:remediator.gunicorn_conf", "remediator.wsgi",
        "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers),
        "--threads", str(args.threads),
    ]  # fmt: skip
    process = subprocess.Popen(gunicorn, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        wait_ready(args.port, process)
        started = time.perf_counter()
        requests = [request_bytes(review(ref, n)) for n, ref in enumerate(references)]
        for raw in requests:  # warm: one miss per reference
            post(args.port, raw)
        cold = (time.perf_counter() - started) / len(references)
        total = int(args.rate * args.seconds)
        sys.setswitchinterval(0.0005)  # the client's threads must not wait 5 ms for the GIL
        latencies: list[float] = []
        outcomes: dict[str, int] = {}
        lock = threading.Lock()
        load_before = os.getloadavg()

        def one(n: int, due: float) -> None:
            status, allowed = post(args.port, requests[n % len(requests)])
            elapsed = time.perf_counter() - due
            key = str(status) if allowed is None else ("allowed" if allowed else "denied")
            with lock:
                latencies.append(elapsed * 1000)
                outcomes[key] = outcomes.get(key, 0) + 1

        with ThreadPoolExecutor(max_workers=64) as pool:
            t0 = time.perf_counter() + 0.2
            for n in range(total):
                due = t0 + n / args.rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(one, n, due)
        wall = time.perf_counter() - t0
        load_after = os.getloadavg()
    finally:
        process.terminate()
        process.wait(10)
    p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    p99, worst = percentile(latencies, 0.99), max(latencies)
    print(
        f"machine: {os.cpu_count()} CPUs, 1-min load average before {load_before[0]:.2f}, ", end=""
    )
    print(f"after {load_after[0]:.2f}")
    print(f"gunicorn: {args.workers} workers x {args.threads} threads, SQLite, ", end="")
    print(f"{len(references)} references over {args.images} images")
    print(f"cold (cache miss, sequential): {cold * 1000:.1f} ms per review")
    print(f"sent {total} reviews at {args.rate:.0f}/s for {args.seconds:.0f} s ", end="")
    print(f"(achieved {total / wall:.0f}/s); outcomes: {outcomes}")
    print(f"latency ms: p50 {p50:.1f}  p95 {p95:.1f}  p99 {p99:.1f}  max {worst:.1f}")


if __name__ == "__main__":
    main()
