"""Class 7: one credential speaks for the report formats whose own webhook accepts it,
no more. The ``auto`` secret can post any format, but a report in a format it does not
speak for is evidence of ``auto`` only (witness ``auto:<format>:<scanner>``): it cannot
close a finding that only Trivy witnessed. The delivery says what it was accepted with."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from findings.models import Delivery, Finding, FindingWitness, Scan
from remediator.core.signing import standard_webhooks_signature
from remediator.intake.receive import delivery_process as delivery_run
from remediator.intake.spool_replay import spool_replay
from tests.api.conftest import viewer
from tests.outage import database_down

from ._text_support import CLEAN, body, finding, report

pytestmark = pytest.mark.django_db
CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "bad" / "credentials.tsv"
SETTINGS = {"SHARED": "WEBHOOK_SECRET"}
CVE_A = finding(id="CVE-2024-1111")
CVE_B = finding(id="CVE-2024-2222", package="zlib")


@pytest.fixture
def configure(monkeypatch, settings):
    """Configure webhook secrets as the corpus spells them: 'TRIVY=t-1 AUTO=a-1'."""

    def apply(spec: str) -> None:
        for name in list(os.environ):
            if name.startswith("WEBHOOK_SECRET"):
                monkeypatch.delenv(name)
        settings.WEBHOOK_ALLOW_UNAUTHENTICATED = False
        for item in spec.split():
            if item == "ALLOW":
                settings.WEBHOOK_ALLOW_UNAUTHENTICATED = True
                continue
            name, _, value = item.partition("=")
            setting = SETTINGS.get(name, f"WEBHOOK_SECRET_{name.replace('-', '_')}")
            monkeypatch.setenv(setting, value)

    return apply


def credentials(method: str, secret: str, payload: bytes) -> tuple[str, dict]:
    """(a URL suffix, request headers) that present ``secret`` by ``method``."""
    if method == "none":
        return "", {}
    if method == "bearer":
        return "", {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    if method == "path":
        return f"{secret}/", {}
    if method == "query":
        return f"?token={secret}", {}
    if method == "hub":
        digest = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
        return "", {"HTTP_X_HUB_SIGNATURE_256": f"sha256={digest}"}
    at = int(time.time())
    signature = standard_webhooks_signature(secret, "msg_1", at, payload)
    return "", {
        "HTTP_WEBHOOK_ID": "msg_1",
        "HTTP_WEBHOOK_TIMESTAMP": str(at),
        "HTTP_WEBHOOK_SIGNATURE": signature,
    }


_sent = itertools.count(1)


def post(client, webhook: str, fmt: str, method: str, secret: str, *findings: dict):
    """Post a report; each one's bytes differ (the same bytes again are the same report,
    a no-op whoever sends them)."""
    document = report(fmt, *(findings or (CLEAN,)))
    payload = json.dumps({**document, "sent": next(_sent)}).encode()
    suffix, headers = credentials(method, secret, payload)
    url = f"/api/v1/webhooks/{webhook}/{suffix}"
    if fmt == "harbor":  # a Harbor report names no image
        url += ("&" if "?" in url else "?") + "image=docker.io/library/alpine:3.19"
    return client.generic("POST", url, payload, content_type="application/json", **headers)


def processed(response) -> Delivery:
    assert response.status_code == 202, response.content
    delivery = Delivery.objects.get(pk=response.json()["delivery"])
    delivery_run(delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == "processed", delivery.error
    return delivery


@dataclass(frozen=True)
class Probe:
    name: str
    secrets: str
    credential: str
    method: str
    webhook: str
    format: str
    status: int
    witness: str
    setting: str
    tries: str


def probes() -> list[Probe]:
    rows = []
    for line in CORPUS.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, secrets, cred, method, webhook, fmt, status, witness, setting, tries = line.split(
            "\t"
        )
        rows.append(Probe(name, secrets, cred, method, webhook, fmt, int(status), witness,
                          setting, tries))  # fmt: skip
    return rows


PROBES = probes()


@pytest.mark.parametrize("probe", PROBES, ids=[p.name for p in PROBES])
def test_each_credential_speaks_only_for_what_its_secret_is_accepted_at(client, configure, probe):
    configure(probe.secrets)

    response = post(client, probe.webhook, probe.format, probe.method, probe.credential)

    assert response.status_code == probe.status, (probe.tries, response.content)
    if probe.status != 202:
        assert response.json()["error"] in ("unauthorized", "secret_in_query")
        assert not Delivery.objects.exists()
        return
    delivery = processed(response)
    assert set(Scan.objects.values_list("scanner_key", flat=True)) == {probe.witness}
    assert set(FindingWitness.objects.values_list("scanner_key", flat=True)) == {probe.witness}
    assert delivery.headers["credential"] == ("" if probe.setting == "-" else probe.setting)
    assert delivery.headers["accepted_at"] == probe.webhook


def test_the_auto_credential_cannot_close_a_finding_only_trivy_witnessed(client, configure):
    configure("TRIVY=t-1 AUTO=a-1")
    processed(post(client, "trivy", "trivy", "bearer", "t-1", CVE_A, CVE_B))

    shaped = processed(post(client, "auto", "trivy", "bearer", "a-1", CVE_B))

    assert Scan.objects.get(delivery=shaped).scanner_key == "auto:trivy:trivy"
    assert Finding.objects.get(vulnerability_id=CVE_A["id"]).status == "open"
    processed(post(client, "trivy", "trivy", "bearer", "t-1", CVE_B))  # Trivy itself
    assert Finding.objects.get(vulnerability_id=CVE_A["id"]).status == "fixed"


def test_what_auto_reported_auto_can_close(client, configure):
    configure("TRIVY=t-1 AUTO=a-1")
    processed(post(client, "auto", "trivy", "bearer", "a-1", CVE_A, CVE_B))

    processed(post(client, "auto", "trivy", "bearer", "a-1", CVE_B))

    assert Finding.objects.get(vulnerability_id=CVE_A["id"]).status == "fixed"
    assert Finding.objects.get(vulnerability_id=CVE_A["id"]).fixed_by_scan.scanner_key == (
        "auto:trivy:trivy"
    )


def test_a_finding_both_witnessed_stays_open_until_trivy_itself_no_longer_lists_it(
    client, configure
):
    configure("TRIVY=t-1 AUTO=a-1")
    processed(post(client, "trivy", "trivy", "bearer", "t-1", CVE_A))
    processed(post(client, "auto", "trivy", "bearer", "a-1", CVE_A))

    processed(post(client, "auto", "trivy", "bearer", "a-1", CVE_B))
    assert Finding.objects.get(vulnerability_id=CVE_A["id"]).status == "open"

    processed(post(client, "trivy", "trivy", "bearer", "t-1", CVE_B))
    assert Finding.objects.get(vulnerability_id=CVE_A["id"]).status == "fixed"


def test_the_delivery_page_and_api_show_the_credential_and_the_witness(client, configure):
    configure("TRIVY=t-1 AUTO=a-1")
    delivery = processed(post(client, "auto", "trivy", "bearer", "a-1"))
    reader = viewer("credential-reader")
    api = APIClient()
    api.force_authenticate(reader)
    client.force_login(reader)

    detail = api.get(f"/api/v1/deliveries/{delivery.pk}/").json()
    page = client.get(f"/deliveries/{delivery.pk}/").content.decode()

    assert detail["credential"] == {
        "method": "authorization",
        "setting": "WEBHOOK_SECRET_AUTO",
        "accepted_at": "auto",
        "speaks_for": [],
    }
    assert detail["witnesses"] == ["auto:trivy:trivy"]
    assert "WEBHOOK_SECRET_AUTO (authorization) at the auto webhook" in page
    assert "speaks for no format of its own" in page and "auto:trivy:trivy" in page


@pytest.mark.django_db(transaction=True)
def test_a_body_spooled_while_the_database_is_down_keeps_its_credential(
    client, configure, settings, tmp_path
):
    configure("TRIVY=t-1 AUTO=a-1")
    settings.WEBHOOK_SPOOL_DIR = tmp_path / "spool"
    settings.WEBHOOK_SPOOL_INLINE_EVERY = 3600.0
    with database_down():
        spooled = post(client, "auto", "trivy", "bearer", "a-1")
    assert spooled.status_code == 202 and spooled.json()["status"] == "spooled"

    [stored] = spool_replay().stored
    delivery = Delivery.objects.get(pk=stored)
    delivery_run(delivery=delivery)

    assert delivery.headers["speaks_for"] == []
    assert Scan.objects.get().scanner_key == "auto:trivy:trivy"


def test_context_added_to_a_rejected_delivery_is_vouched_for_by_its_sender(client, configure):
    """A Trivy report rejected for naming no image is taken up again when the same bytes
    come with ?image=; when they come through auto, auto's credential is what vouches."""
    configure("TRIVY=t-1 AUTO=a-1")
    payload = json.loads(body("trivy", CLEAN))
    payload.pop("ArtifactName")
    payload.pop("Metadata")
    raw = json.dumps(payload).encode()
    headers = {"HTTP_AUTHORIZATION": "Bearer t-1"}
    first = client.generic("POST", "/api/v1/webhooks/trivy/", raw, "application/json", **headers)
    assert first.status_code == 422

    again = client.generic(
        "POST",
        "/api/v1/webhooks/auto/?image=docker.io/library/alpine:3.19",
        raw,
        "application/json",
        HTTP_AUTHORIZATION="Bearer a-1",
    )
    delivery = processed(again)

    assert delivery.source == "trivy" and delivery.headers["credential"] == "WEBHOOK_SECRET_AUTO"
    assert Scan.objects.get().scanner_key == "auto:trivy:trivy"


def test_the_command_line_speaks_for_any_format(configure, tmp_path):
    from django.core.management import call_command

    configure("TRIVY=t-1 AUTO=a-1")
    report = tmp_path / "report.json"
    report.write_bytes(body("trivy", CLEAN))

    call_command("ingest", str(report))

    assert Scan.objects.get().scanner_key == "trivy:trivy"
    assert Delivery.objects.get().headers == {}


@pytest.mark.parametrize(
    ("secrets", "webhook", "secret", "witness"),
    [
        ("HARBOR=h-1 AUTO=a-1", "harbor", "h-1", "harbor:clair"),
        ("HARBOR=h-1 AUTO=a-1", "auto", "a-1", "auto:harbor:clair"),
        ("SHARED=s-1", "auto", "s-1", "harbor:clair"),
    ],
    ids=["harbor-secret", "auto-secret", "shared-secret"],
)
def test_a_harbor_event_speaks_for_the_report_it_fetches_only_as_its_credential_does(
    client, configure, httpserver, settings, monkeypatch, secrets, webhook, secret, witness
):
    """An event names the artifact and tag whose report Remediator fetches from Harbor:
    the auto secret could otherwise point Harbor's report of an old digest at a tag."""
    from tests.webhooks.test_harbor import ZULIP_REPORT_PATH, harbor_fixture

    configure(secrets)
    settings.HARBOR_URL = httpserver.url_for("/").rstrip("/")
    settings.HARBOR_USERNAME = "robot$remediator"
    settings.PROVIDER_RETRIES = 0
    monkeypatch.setenv("HARBOR_PASSWORD", "harbor-pass")
    httpserver.expect_request(ZULIP_REPORT_PATH, method="GET").respond_with_data(
        harbor_fixture("dd_harbor_report_clair_5.json"), content_type="application/json"
    )

    response = client.generic(
        "POST",
        f"/api/v1/webhooks/{webhook}/",
        harbor_fixture("zulip_scanning_completed.json"),
        "application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    processed(response)

    report = Delivery.objects.get(channel="harbor-api")
    assert Scan.objects.get(delivery=report).scanner_key == witness
