"""Inputs that are usable once normalised: stored safely, not refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from findings.models import Delivery, Finding, Scan
from remediator.core.signing import standard_webhooks_verify
from remediator.intake.receive import delivery_process
from remediator.intake.store import delivery_store
from tests.dashboard.conftest import make_user
from tests.engine.factories import payload, vuln

from .conftest import SECRET

pytestmark = pytest.mark.django_db


def _process(document: dict) -> Scan:
    body = json.dumps(document).encode()
    delivery, _ = delivery_store(source="generic", body=body, content_type="application/json")
    return delivery_process(delivery=delivery).scan


def test_a_report_dated_9999_is_clamped_to_its_receive_time_and_keeps_the_reported_time():
    scan = _process({**payload(vuln()), "scannedAt": "9999-12-31T23:59:59Z"})

    assert scan.scanned_at == scan.delivery.received_at
    assert scan.reported_scanned_at == datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_a_clamped_report_does_not_freeze_the_findings_lifecycle():
    _process({**payload(vuln()), "scannedAt": "9999-12-31T23:59:59Z"})
    later = _process({**payload(), "scannedAt": datetime.now(UTC).isoformat()})

    assert not later.superseded
    assert Finding.objects.get().status == Finding.Status.FIXED


def test_a_time_within_the_skew_is_kept(settings):
    settings.SCAN_TIME_MAX_SKEW_SECONDS = 300
    soon = datetime.now(UTC) + timedelta(seconds=60)
    scan = _process({**payload(vuln()), "scannedAt": soon.isoformat()})

    assert scan.scanned_at == soon and scan.reported_scanned_at is None


def test_a_time_beyond_9999_once_in_utc_counts_as_unknown():
    scan = _process({**payload(vuln()), "scannedAt": "9999-12-31T23:00:00-05:00"})

    assert scan.scanned_at == scan.delivery.received_at and scan.reported_scanned_at is None


def test_nul_in_the_senders_delivery_id_and_headers_is_dropped_not_a_500(client, monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    body = json.dumps(payload(vuln())).encode()

    response = client.generic(
        "POST",
        "/api/v1/webhooks/generic/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {SECRET}",
        HTTP_WEBHOOK_ID="id-\x00-1",
        HTTP_USER_AGENT="scanner\x00",
    )

    assert response.status_code == 202, response.content
    delivery = Delivery.objects.get()
    assert delivery.external_id == "id--1" and delivery.headers["user-agent"] == "scanner"


def test_nul_in_report_text_is_dropped_before_the_database():
    finding = vuln("CVE-2024-0001\x00", "open\x00ssl")
    scan = _process(payload(finding))

    stored = Finding.objects.get(pk__in=scan.findings.all())
    assert (stored.vulnerability_id, stored.package) == ("CVE-2024-0001", "openssl")


def test_since_with_an_offset_postgresql_refuses_is_converted_to_utc(api):
    response = api.get("/api/v1/scans/?since=2024-01-01T00:00:00%2B20:00")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        ("9" * 5000, "v1,AAAA"),
        ("\uff11\uff17" + "\uff10" * 8, "v1,AAAA"),
        ("1_700_000_000", "v1,AAAA"),
        ("{now}", "v1,\u00e9\u00e9"),
        ("{now}", "v1,\x00"),
    ],
    ids=["5000-digits", "fullwidth-digits", "underscores", "non-ascii-signature", "nul-signature"],
)
def test_malformed_standard_webhooks_headers_are_a_reason_not_an_exception(timestamp, signature):
    now = datetime.now(UTC).timestamp()
    reason = standard_webhooks_verify(
        ["secret"],
        msg_id="m1",
        timestamp=timestamp.replace("{now}", str(int(now))),
        signature_header=signature,
        body=b"{}",
        now=now,
    )
    assert reason.startswith("webhook-")


def test_the_image_page_says_a_scan_time_was_clamped(client):
    scan = _process({**payload(vuln()), "scannedAt": "9999-12-31T23:59:59Z"})
    client.force_login(make_user("clamp-viewer", "Viewer"))

    page = client.get(f"/images/{scan.tag.repository_id}/").content.decode()

    assert "dated 9999-12-31 23:59 in the report, in the future: counted as received" in page
