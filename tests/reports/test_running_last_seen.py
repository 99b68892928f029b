"""The inventory keeps Image.running_last_seen: when each digest was last seen running,
kept after the inventory rows expire."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from findings.models import Image, Scan
from remediator.cluster.inventory import inventory_expire, inventory_from_scan, inventory_record
from remediator.cluster.pods import RunningRow
from remediator.intake.receive import delivery_process
from remediator.intake.store import delivery_store
from tests.admission.conftest import TOKEN
from tests.conftest import FIXTURES
from tests.engine.factories import digest

from .history import API, day, scan, sighted

pytestmark = pytest.mark.django_db


def image(digest_no: int) -> Image:
    return Image.objects.get(digest=digest(digest_no))


def test_a_sighting_moves_running_last_seen_forward_never_back():
    scan(API, 1, day(0))
    assert image(1).running_last_seen is None
    sighted(API, 1, day(3))
    assert image(1).running_last_seen == day(3)
    sighted(API, 1, day(2), workload="late-report")  # an older sighting arriving late
    assert image(1).running_last_seen == day(3)
    sighted(API, 1, day(5), workload="other")
    assert image(1).running_last_seen == day(5)


def test_running_last_seen_outlives_the_expired_inventory_rows():
    scan(API, 1, day(0))
    sighted(API, 1, day(3))
    assert inventory_expire(days=7, now=day(30)) == 1
    assert image(1).running_last_seen == day(3)


def test_only_the_sighted_digest_moves():
    scan(API, 1, day(0))
    scan(API, 2, day(1))
    sighted(API, 2, day(4))
    assert image(1).running_last_seen is None and image(2).running_last_seen == day(4)


def test_an_inventory_push_sets_running_last_seen(client, monkeypatch):
    monkeypatch.setenv("ADMISSION_TOKEN", TOKEN)
    kuard = "sha256:bd17153e9a3319f401acc7a27759243f37d422c06cbbf01cb3e1f54bbbfe14f4"
    scan("gcr.io/kuar-demo/kuard-amd64", 1, day(0))
    known = Image.objects.create(repository=Image.objects.get().repository, digest=kuard)
    before = timezone.now()
    response = client.post(
        "/api/v1/inventory/?cluster=minikube",
        data=(FIXTURES / "inventory" / "kubectl_pods_kuard.json").read_bytes(),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
    )
    assert response.status_code == 200, response.content
    known.refresh_from_db()
    assert known.running_last_seen is not None and known.running_last_seen >= before


def test_a_kubernetes_report_s_workloads_set_running_last_seen():
    body = (FIXTURES / "trivy" / "k8s" / "report_all_three_images.json").read_bytes()
    delivery, _ = delivery_store(source="trivy-k8s", body=body, content_type="application/json")
    delivery_process(delivery=delivery)
    scans = list(Scan.objects.filter(delivery=delivery).exclude(workloads=[]))
    assert scans
    for each in scans:
        inventory_from_scan(each.pk)
    for each in scans:
        each.image.refresh_from_db()
        assert each.image.running_last_seen == each.scanned_at


def test_running_last_seen_is_one_statement_per_batch_however_many_images():
    for n in range(1, 7):
        scan(API, n, day(0), tag=str(n))
    rows = [
        RunningRow("prod", "shop", "Deployment", f"w{n}", "c", f"{API}@{digest(n)}", digest(n))
        for n in range(1, 7)
    ]
    with CaptureQueriesContext(connection) as one:
        inventory_record(rows[:1], source="inventory", seen_at=day(2))
    with CaptureQueriesContext(connection) as six:
        inventory_record(rows, source="inventory", seen_at=day(3))
    assert len(six) == len(one)
    assert [q for q in six.captured_queries if 'UPDATE "findings_image"' in q["sql"]]
    assert {image(n).running_last_seen for n in range(1, 7)} == {day(3)}
