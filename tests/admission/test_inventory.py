"""Inventory: what runs where, from pushes, Kubernetes reports and admission reviews."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from findings.models import Image, Repository, RunningImage, Scan
from remediator.celery import app
from remediator.cluster.inventory import inventory_expire, inventory_from_scan
from remediator.cluster.pods import pods_running, workload_of
from remediator.cluster.selectors import is_running, running_repositories
from remediator.intake.receive import delivery_process
from remediator.intake.store import delivery_store
from tests.engine.factories import ingest

from .conftest import TOKEN

FIXTURES = Path(__file__).parent.parent / "fixtures"
PODS = FIXTURES / "inventory" / "kubectl_pods_kuard.json"
KUARD_DIGEST = "sha256:bd17153e9a3319f401acc7a27759243f37d422c06cbbf01cb3e1f54bbbfe14f4"


def test_a_pod_list_yields_each_container_with_the_digest_it_runs():
    rows = pods_running(json.loads(PODS.read_text()), cluster="minikube")
    assert [(r.namespace, r.kind, r.name, r.container, r.digest) for r in rows] == [
        ("default", "ReplicaSet", "queue", "queue", KUARD_DIGEST)
    ]
    assert rows[0].image_ref == "gcr.io/kuar-demo/kuard-amd64:1"


def test_a_replicaset_named_after_its_pod_template_hash_is_reported_as_its_deployment():
    meta = {
        "labels": {"pod-template-hash": "5d59d67564"},
        "ownerReferences": [
            {"kind": "ReplicaSet", "name": "web-5d59d67564", "controller": True},
        ],
    }
    assert workload_of(meta) == ("Deployment", "web")
    assert workload_of({"generateName": "debug-"}) == ("Pod", "debug-")


@pytest.mark.django_db
def test_the_inventory_push_records_the_pods_and_links_known_images(client):
    kuard = ingest(image="gcr.io/kuar-demo/kuard-amd64", tag="1", digest_no=1)
    image = Image.objects.create(repository_id=kuard.image.repository_id, digest=KUARD_DIGEST)
    response = client.post(
        "/api/v1/inventory/?cluster=minikube",
        data=PODS.read_bytes(),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"cluster": "minikube", "containers": 1, "refused": 0}
    row = RunningImage.objects.get()
    assert (row.cluster, row.kind, row.name, row.source) == (
        "minikube",
        "ReplicaSet",
        "queue",
        "inventory",
    )
    assert row.image == image and row.repository_id == image.repository_id
    assert is_running(image) and running_repositories() == {image.repository_id}
    assert not is_running(image, namespace_glob="prod-*")


@pytest.mark.django_db
def test_a_repeated_push_moves_last_seen_and_keeps_first_seen(client):
    for _ in range(2):
        call_command("inventory_import", str(PODS), "--cluster", "minikube", stdout=StringIO())
    row = RunningImage.objects.get()
    assert row.last_seen > row.first_seen


@pytest.mark.django_db
def test_the_inventory_push_refuses_what_is_not_a_pod_list(client):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    bad = client.post("/api/v1/inventory/", data="{}", content_type="application/json", **headers)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_pod_list"
    anonymous = client.post(
        "/api/v1/inventory/", data=PODS.read_bytes(), content_type="application/json"
    )
    assert anonymous.status_code == 401


@pytest.mark.django_db
def test_inventory_import_prints_what_it_recorded():
    out = StringIO()
    call_command("inventory_import", str(PODS), "--cluster", "minikube", stdout=out)
    assert json.loads(out.getvalue()) == {"cluster": "minikube", "containers": 1, "refused": 0}


@pytest.mark.django_db
def test_a_trivy_k8s_report_records_the_workloads_of_each_image():
    body = (FIXTURES / "trivy" / "k8s" / "report_all_three_images.json").read_bytes()
    delivery, _ = delivery_store(source="trivy-k8s", body=body, content_type="application/json")
    delivery_process(delivery=delivery)
    for scan in Scan.objects.filter(delivery=delivery):
        inventory_from_scan(scan.pk)
    rows = RunningImage.objects.order_by("name", "container")
    assert {(r.cluster, r.namespace, r.kind, r.name) for r in rows} >= {
        ("kind-remediator", "default", "Deployment", "orion"),
        ("kind-remediator", "default", "Deployment", "web"),
    }
    assert all(r.source == "report" and r.image_id and r.digest for r in rows)
    orion = rows.filter(name="orion").first()
    assert is_running(orion.image) and orion.repository_id in running_repositories()


@pytest.mark.django_db
def test_a_trivy_operator_report_is_recorded_when_its_scans_are_committed(
    monkeypatch, django_capture_on_commit_callbacks
):
    """The engine's scan_ingested receiver, not a direct call: ingest stays untouched."""
    from remediator.engine import receivers

    monkeypatch.setattr(receivers.scan_evaluate_task, "delay", lambda scan_id: None)
    body = (FIXTURES / "trivy" / "operator" / "kubectl_list_two_reports.json").read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        delivery, _ = delivery_store(
            source="trivy-operator", body=body, content_type="application/json"
        )
        delivery_process(delivery=delivery)
    scans = Scan.objects.filter(delivery=delivery).exclude(workloads=[])
    assert scans.exists()
    rows = RunningImage.objects.filter(source="report")
    assert rows.count() >= scans.count()
    assert {(r.namespace, r.kind, r.name) for r in rows} == {
        (w["namespace"], w["kind"], w["name"]) for scan in scans for w in scan.workloads
    }


@pytest.mark.django_db
def test_stale_entries_expire():
    call_command("inventory_import", str(PODS), stdout=StringIO())
    assert inventory_expire(days=7) == 0
    RunningImage.objects.update(last_seen=timezone.now() - timedelta(days=8))
    assert inventory_expire(days=7) == 1
    assert not RunningImage.objects.exists()


@pytest.mark.django_db
def test_beat_expires_stale_entries_through_the_task_it_names_on_the_housekeeping_queue(
    settings,
):
    call_command("inventory_import", str(PODS), stdout=StringIO())
    RunningImage.objects.update(last_seen=timezone.now() - timedelta(days=8))
    name = settings.CELERY_BEAT_SCHEDULE["findings-inventory-expire"]["task"]
    app.loader.import_default_modules()
    assert app.amqp.router.route({}, name)["queue"].name == "housekeeping"
    assert app.tasks[name].apply().get() == 1
    assert not RunningImage.objects.exists()


@pytest.mark.django_db
def test_nothing_runs_in_an_empty_inventory():
    repository = Repository.objects.create(registry="docker.io", name="library/alpine")
    assert not is_running(repository) and running_repositories() == set()
