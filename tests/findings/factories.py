"""Builders of parsed reports and stored deliveries for ingestion tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from findings.models import Delivery
from findings.parsers.base import ImageRef, ParsedFinding, ParsedScan
from remediator.intake.store import delivery_store

_counter = itertools.count(1)

ALPINE = ImageRef(
    registry="docker.io", repository="library/alpine", tag="3.19", digest="sha256:" + "a" * 64
)


def finding(vuln: str = "CVE-2024-0001", package: str = "openssl", **kw) -> ParsedFinding:
    kw.setdefault("installed_version", "3.1.0-r0")
    kw.setdefault("package_type", "apk")
    kw.setdefault("severity", "high")
    return ParsedFinding(vulnerability_id=vuln, package=package, **kw)


def report(*findings: ParsedFinding, day: int = 1, image: ImageRef = ALPINE) -> ParsedScan:
    return ParsedScan(
        source="generic",
        image=image,
        findings=tuple(findings),
        scanned_at=datetime(2026, 11, day, 12, 0, tzinfo=UTC),
    )


def delivery() -> Delivery:
    stored, _ = delivery_store(
        source="generic", body=f"body {next(_counter)}".encode(), channel="cli"
    )
    return stored
