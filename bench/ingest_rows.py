"""Ingest's row work: wall and CPU time for each write shape of an N-finding report.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/remediator_bench_rows \\
        .venv/bin/python bench/ingest_rows.py [--findings 20000] [--runs 5] [--out FILE]

Per run, on a new image, through the services the webhook uses (delivery_store +
delivery_process), five Trivy reports of the same tag, each one newer:

- ``first``: every finding, vulnerability and witness inserted;
- ``all_changed``: every finding's severity and fix changed (every finding row updated);
- ``half_gone``: half of them no longer listed (witnesses absent, findings fixed);
- ``all_back``: all listed again (the fixed half reopened, their last sighting moved);
- ``one_percent``: 1% changed, 1% new (the stored rows read and compared, few written).

CPU time is this process's (decoding, parsing, building and sending rows; not the
database's work), so it moves less than wall time on a shared machine. Prints the
medians, findings per second of wall time, and (with --out) every run as JSON. The
database (created when missing) is dropped first. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from common import setup

SHAPES = ("first", "all_changed", "half_gone", "all_back", "one_percent")


def _reports(n: int, image: str, run: int) -> dict[str, bytes]:
    from ingest import trivy_report

    def body(step: int, *, keep: int | None = None) -> dict:
        doc = json.loads(trivy_report(n, image=image, digest="sha256:" + "4" * 64, keep=keep))
        doc["CreatedAt"] = f"2026-01-01T00:{run % 60:02d}:{step:02d}Z"
        return doc

    changed = body(1)
    for vuln in changed["Results"][0]["Vulnerabilities"]:
        vuln["Severity"], vuln["FixedVersion"] = "CRITICAL", vuln["FixedVersion"] + ".1"
    one_percent = body(4)
    vulns = one_percent["Results"][0]["Vulnerabilities"]
    for vuln in vulns[: n // 100]:
        vuln["Severity"] = "LOW"
    for i in range(n // 100):
        vulns[-1 - i]["VulnerabilityID"] = f"CVE-2027-{run:03d}{i:05d}"
    docs = (body(0), changed, body(2, keep=n // 2), body(3), one_percent)
    return {shape: json.dumps(doc).encode() for shape, doc in zip(SHAPES, docs, strict=True)}


def _ingest(body: bytes) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds) to store and process ``body``."""
    from remediator.intake.receive import delivery_process
    from remediator.intake.store import delivery_store

    wall, cpu = time.perf_counter(), time.process_time()
    delivery, _ = delivery_store(source="trivy", body=body, channel="cli")
    delivery_process(delivery=delivery)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--findings", type=int, default=20_000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--out", help="write every run's figures here as JSON")
    args = p.parse_args()
    setup(fresh=True)
    n = args.findings
    runs: dict[str, dict[str, list[float]]] = {s: {"wall_s": [], "cpu_s": []} for s in SHAPES}
    for run in range(args.runs):
        image = f"registry.example.com/bench/rows{run}-{time.time_ns()}:1"
        for shape, body in _reports(n, image, run).items():
            wall, cpu = _ingest(body)
            runs[shape]["wall_s"].append(wall)
            runs[shape]["cpu_s"].append(cpu)
    print(f"{'report':>12} {'wall s':>8} {'cpu s':>8} {'findings/s':>11}  ({n:,} findings)")
    for shape, figures in runs.items():
        wall, cpu = (statistics.median(figures[k]) for k in ("wall_s", "cpu_s"))
        print(f"{shape:>12} {wall:>8.3f} {cpu:>8.3f} {n / wall:>11,.0f}")
    if args.out:
        with open(args.out, "w") as handle:
            json.dump({"findings": n, "runs": runs}, handle, indent=1)


if __name__ == "__main__":
    main()
