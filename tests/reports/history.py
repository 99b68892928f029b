"""A small remediation history through the real ingestion and inventory: scans dated as
given, inventory sightings dated as given."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from findings.models import Finding
from remediator.cluster.inventory import inventory_record
from remediator.cluster.pods import RunningRow
from remediator.intake.receive import delivery_process
from remediator.intake.store import delivery_store
from tests.engine.factories import digest, payload, vuln

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def scan(image: str, digest_no: int, at: datetime, *findings: dict, tag: str = "1") -> None:
    body = payload(*findings, image=image, tag=tag, digest_no=digest_no)
    body["scannedAt"] = at.isoformat()
    delivery, _ = delivery_store(
        source="generic", body=json.dumps(body).encode(), content_type="application/json"
    )
    delivery_process(delivery=delivery)


def sighted(image: str, digest_no: int, at: datetime, workload: str = "web") -> None:
    row = RunningRow(
        cluster="prod",
        namespace="shop",
        kind="Deployment",
        name=workload,
        container=workload,
        image_ref=f"{image}@{digest(digest_no)}",
        digest=digest(digest_no),
    )
    inventory_record([row], source="inventory", seen_at=at)


API = "registry.example.com/acme/api"
CART = "registry.example.com/acme/cart"
TOOLS = "registry.example.com/acme/tools"
CRIT = vuln("CVE-2024-0001", "openssl", severity="critical")
HIGH = vuln("CVE-2024-0002", "zlib", severity="high")
MED = vuln("CVE-2024-0003", "curl", severity="medium")


def build_history() -> dict[str, Finding]:
    """api: digest 1 then 2 (still vulnerable) then 3 (fixed on day 10); digest 1 ran
    until day 6, digest 2 until day 12 (the rollout trailed the fix).
    cart: fixed on day 4, but a legacy workload still runs the vulnerable digest now.
    tools: fixed on day 20, never seen running."""
    scan(API, 1, day(0), CRIT, HIGH)
    scan(API, 2, day(5), CRIT, HIGH)
    scan(API, 3, day(10))
    sighted(API, 1, day(1))
    sighted(API, 1, day(6))
    sighted(API, 2, day(12))
    sighted(API, 3, day(13))
    scan(CART, 11, day(0), CRIT)
    scan(CART, 12, day(4))
    sighted(CART, 11, day(2), workload="cart")
    sighted(CART, 11, day(30), workload="cart-legacy")
    scan(TOOLS, 21, day(0), MED)
    scan(TOOLS, 22, day(20))
    found = {
        f"{f.repository.name}:{f.vulnerability_id}": f
        for f in Finding.objects.select_related("repository")
    }
    return found
