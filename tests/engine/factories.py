"""Builders for engine tests: generic-format scan payloads ingested like webhooks."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from findings.models import RunningImage, Scan, Tag
from remediator.intake.receive import delivery_process
from remediator.intake.store import delivery_store

_counter = itertools.count(1)
IMAGE = "registry.example.com/acme/api"
START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def digest(n: int) -> str:
    return "sha256:" + f"{n:x}".rjust(64, "0")


def vuln(
    cve: str = "CVE-2024-6119",
    package: str = "openssl",
    *,
    severity: str = "critical",
    version: str = "3.3.1-r0",
    fixed: str = "3.3.2-r0",
) -> dict:
    return {
        "id": cve,
        "severity": severity,
        "package": package,
        "version": version,
        "fixedVersion": fixed,
        "packageType": "apk",
        "description": f"{cve} in {package}",
    }


def payload(
    *findings: dict,
    image: str = IMAGE,
    tag: str = "1.4",
    digest_no: int = 1,
    scanner: str = "",
    status: str = "completed",
) -> dict:
    n = next(_counter)
    return {
        "scanId": f"scan-{n}",
        "imageName": image,
        "tag": tag,
        "digest": digest(digest_no),
        "status": status,
        "scannedAt": (START + timedelta(minutes=n)).isoformat(),
        "findings": list(findings),
        **({"scanner": scanner} if scanner else {}),
    }


def ingest(*findings: dict, **kw) -> Scan:
    """Store and process one generic-format delivery, as the webhook would."""
    body = json.dumps(payload(*findings, **kw)).encode()
    delivery, _ = delivery_store(source="generic", body=body, content_type="application/json")
    return delivery_process(delivery=delivery).scan


def tag_of(scan: Scan) -> Tag:
    return Tag.objects.select_related("repository", "image").get(pk=scan.tag_id)


def running_row(
    namespace: str, name: str, image_ref: str, digest: str = "", *, last_seen=None
) -> RunningImage:
    """One container of a Deployment the inventory saw running (now, unless told)."""
    now = timezone.now()
    return RunningImage.objects.create(
        cluster="prod",
        namespace=namespace,
        kind="Deployment",
        name=name,
        container="app",
        image_ref=image_ref,
        digest=digest,
        source="inventory",
        first_seen=now,
        last_seen=last_seen or now,
    )
