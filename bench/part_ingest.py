"""Ingest: first ingest and re-scans of an N-finding Trivy report, beside json.load, COPY
of the same rows and a naive per-row ORM loop (PostgreSQL)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from common import ROOT, parser, rows_written, setup, write


def real_entries() -> list[dict]:
    """The vulnerability entries of the real Trivy reports in tests/fixtures/trivy (full
    descriptions, CVSS blocks, references, dates), as a real scanner writes them."""
    entries = []
    for path in sorted((ROOT / "tests/fixtures/trivy").glob("*.json")):
        try:
            body = json.loads(path.read_text())
        except ValueError:
            continue
        if isinstance(body, dict) and body.get("SchemaVersion") == 2:
            for result in body.get("Results") or []:
                entries += result.get("Vulnerabilities") or []
    return entries


def real_shaped(body: dict) -> None:
    """Each synthetic finding takes the other fields of a real entry, cycled: the same
    identities (id, package, version), the size and shape of what Trivy really sends."""
    entries = real_entries()
    keep = ("VulnerabilityID", "PkgName", "InstalledVersion", "FixedVersion", "Severity")
    vulns = body["Results"][0]["Vulnerabilities"]
    for i, vuln in enumerate(vulns):
        real = dict(entries[i % len(entries)])
        real.pop("PkgIdentifier", None)
        real.update({key: vuln[key] for key in keep})
        vulns[i] = real


def report(size: int, image: str, *, stamp: int, changed: int = 0, real: bool = False) -> bytes:
    from ingest import trivy_report

    body = json.loads(trivy_report(size, image=image, digest="sha256:" + "2" * 64))
    if real:
        real_shaped(body)
    vulns = body["Results"][0]["Vulnerabilities"]
    for vuln in vulns[:changed]:  # a changed severity and fix
        vuln["Severity"], vuln["FixedVersion"] = "CRITICAL", vuln["FixedVersion"] + ".1"
    for i in range(changed):  # and as many new findings in place of old ones
        vulns[-1 - i]["VulnerabilityID"] = f"CVE-2027-{stamp % 100000:05d}{i}"
    body["CreatedAt"] = f"2026-01-01T00:00:{stamp % 60:02d}.{stamp:09d}Z"
    return json.dumps(body).encode()


def ingest(body: bytes) -> float:
    from remediator.intake.receive import delivery_process
    from remediator.intake.store import delivery_store

    started = time.perf_counter()
    delivery, _ = delivery_store(source="trivy", body=body, channel="cli")
    delivery_process(delivery=delivery)
    return time.perf_counter() - started


def copy_floor(body: bytes) -> float:
    """COPY of the same finding rows into a scratch table with the findings indexes."""
    from django.db import connection, transaction
    from django.utils import timezone

    from findings.parsers import load_body, parse

    parsed = parse("trivy", load_body("trivy", body))
    now = timezone.now()
    rows = [
        (1, 1, f.vulnerability_id, f.package, f.installed_version, f.package_type,
         ", ".join(f.fixed_versions), bool(f.fixed_versions), f.severity, 3, None, "",
         json.dumps(list(f.locations)), "open", "", now, now, 0)
        for f in parsed.findings
    ]  # fmt: skip
    cols = (
        "repository_id, tag_id, vulnerability_id, package, installed_version, package_type, "
        "fixed_version, fixable, severity, severity_rank, cvss_score, vendor_status, "
        "locations, status, status_reason, first_seen, last_seen, reopened_count"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE copy_floor (LIKE findings_finding INCLUDING ALL) ON COMMIT DROP"
        )
        started = time.perf_counter()
        with cursor.cursor.copy(f"COPY copy_floor ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return time.perf_counter() - started


def orm_floor(n: int = 2000) -> float:
    """A naive loop: one Finding.objects.create per finding (rolled back); rows/s."""
    from django.db import transaction
    from django.utils import timezone

    from findings.models import Finding, Image, Repository, Tag, Vulnerability

    now = timezone.now()
    with transaction.atomic():
        repo = Repository.objects.create(registry="orm.example", name=f"floor{time.time_ns()}")
        tag = Tag.objects.create(
            repository=repo, name="1", image=Image.objects.create(repository=repo)
        )
        vuln, _ = Vulnerability.objects.get_or_create(id="CVE-2026-00001")
        started = time.perf_counter()
        for i in range(n):
            Finding.objects.create(
                repository=repo, tag=tag, vulnerability=vuln, package=f"p{i}",
                installed_version="1", first_seen=now, last_seen=now,
            )  # fmt: skip
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return n / elapsed


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--findings", type=int, default=20_000)
    p.add_argument(
        "--real-shape",
        action="store_true",
        help="findings shaped as the real Trivy fixtures' entries (long texts, CVSS, links)",
    )
    args = p.parse_args()
    setup(fresh=True)
    n = args.findings
    result: dict = {"findings": n, "real_shape": args.real_shape}
    for key in ("json_load_s", "first_s", "rescan_s", "rescan_rows_written", "changed_s",
                "changed_rows_written", "copy_s", "orm_rows_per_s"):  # fmt: skip
        result[key] = []
    path = Path(os.environ["DATA_DIR"]) / "report.json"  # the part's own (run.py sets it)
    path.parent.mkdir(parents=True, exist_ok=True)
    for run in range(args.runs):
        image = f"registry.example.com/bench/app{run}-{time.time_ns()}:1"
        first = report(n, image, stamp=run * 3, real=args.real_shape)
        path.write_bytes(first)
        started = time.perf_counter()
        with path.open("rb") as handle:
            json.load(handle)
        result["json_load_s"].append(time.perf_counter() - started)
        result["first_s"].append(ingest(first))
        before = rows_written()
        again = report(n, image, stamp=run * 3 + 1, real=args.real_shape)
        result["rescan_s"].append(ingest(again))
        result["rescan_rows_written"].append(rows_written() - before)
        before = rows_written()
        changed = report(n, image, stamp=run * 3 + 2, changed=n // 100, real=args.real_shape)
        result["changed_s"].append(ingest(changed))
        result["changed_rows_written"].append(rows_written() - before)
        result["copy_s"].append(copy_floor(first))
        result["orm_rows_per_s"].append(orm_floor())
    write(args.out, result)


if __name__ == "__main__":
    main()
