"""Peak memory: ingest one large Trivy report (about 48 MiB) in a fresh process and
report the peak resident size beside the process's baseline after start-up. The report
is synthetic (110,000 findings of about 400 bytes) or, with --real-shape, shaped as Trivy
sends it (20,000 findings of about 2.5 KB)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from common import parser, setup, write


def _mib_peak() -> float:
    """VmHWM: this process's peak resident size (ru_maxrss would carry the parent's peak
    across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--findings", type=int, default=110_000)
    p.add_argument("--real-shape", action="store_true")
    p.add_argument("--measure", action="store_true", help="(internal) the measuring process")
    args = p.parse_args()
    path = Path(os.environ["DATA_DIR"]) / "memory-report.json"  # the part's own
    path.parent.mkdir(parents=True, exist_ok=True)
    if not args.measure:
        setup(fresh=True)
        from ingest import trivy_report
        from part_ingest import report

        image = f"registry.example.com/bench/memory{time.time_ns()}:1"
        if args.real_shape:
            path.write_bytes(report(args.findings, image, stamp=0, real=True))
        else:
            path.write_bytes(trivy_report(args.findings, image=image, digest="sha256:" + "3" * 64))
        command = [sys.executable, __file__, "--out", args.out, "--measure"]
        subprocess.run(command, check=True)
        return
    setup(migrate=False)
    from remediator.intake.receive import delivery_process
    from remediator.intake.store import delivery_store

    baseline = _mib_peak()
    body = path.read_bytes()
    delivery, _ = delivery_store(source="trivy", body=body, channel="cli")
    del body
    result = delivery_process(delivery=delivery)
    write(
        args.out,
        {
            "report_mib": path.stat().st_size / 2**20,
            "findings": result.findings,
            "baseline_mib": baseline,
            "peak_mib": _mib_peak(),
        },
    )


if __name__ == "__main__":
    main()
