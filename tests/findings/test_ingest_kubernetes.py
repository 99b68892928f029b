"""A Kubernetes report is one delivery and one scan per image, workloads recorded."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from findings.models import Delivery, Finding, Scan, Tag
from remediator.intake.receive import delivery_process
from remediator.intake.receive import delivery_process as delivery_run
from remediator.intake.store import delivery_store

from ..api.conftest import viewer
from ..conftest import FIXTURES

pytestmark = pytest.mark.django_db

K8S_ALL = FIXTURES / "trivy" / "k8s" / "report_all_three_images.json"
OPERATOR_YAML = FIXTURES / "trivy" / "operator" / "docs_replicaset_nginx.yaml"


def test_a_k8s_report_becomes_one_scan_per_image_of_one_delivery():
    delivery, _ = delivery_store(source="trivy-k8s", body=K8S_ALL.read_bytes())

    result = delivery_process(delivery=delivery)

    scans = list(Scan.objects.filter(delivery=delivery).order_by("part"))
    assert [s.part for s in scans] == [0, 1, 2]
    assert [f"{s.tag.repository.name}:{s.tag.name}" for s in scans] == [
        "library/alpine:3.14", "library/busybox:1.36.1", "library/nginx:1.25.3",
    ]  # fmt: skip
    assert scans[0].workloads == [
        {"cluster": "kind-remediator", "namespace": "default", "kind": "Deployment",
         "name": "orion"},
        {"cluster": "kind-remediator", "namespace": "kube-system", "kind": "DaemonSet",
         "name": "log-shipper"},
    ]  # fmt: skip
    assert Finding.objects.count() == 3
    assert Tag.objects.count() == 3
    delivery.refresh_from_db()
    assert delivery.status == "processed"
    assert delivery.scan == scans[0]
    summary = result.as_dict()
    assert summary["images"] == 3 and summary["findings"] == 3 and summary["new"] == 3
    assert [s["scan"] for s in summary["scans"]] == [s.pk for s in scans]


def test_processing_a_k8s_report_again_adds_nothing():
    delivery, _ = delivery_store(source="trivy-k8s", body=K8S_ALL.read_bytes())
    delivery_process(delivery=delivery)

    again = delivery_process(delivery=delivery)

    assert not again.created
    assert Scan.objects.count() == 3 and Finding.objects.count() == 3


def test_a_later_k8s_report_without_the_cve_fixes_it_for_that_image_only():
    document = json.loads(K8S_ALL.read_bytes())
    first, _ = delivery_store(source="trivy-k8s", body=json.dumps(document).encode())
    delivery_process(delivery=first)
    web = document["Resources"][1]
    web["Results"][0]["Vulnerabilities"] = []
    second, _ = delivery_store(source="trivy-k8s", body=json.dumps(document).encode())

    delivery_process(delivery=second)

    fixed = Finding.objects.get(vulnerability_id="CVE-2023-6246")
    assert fixed.status == "fixed"
    assert set(Finding.objects.exclude(pk=fixed.pk).values_list("status", flat=True)) == {"open"}


def test_a_single_image_report_keeps_one_scan_at_part_zero(fixture_bytes):
    body = fixture_bytes("trivy/trivy_docs_reporting_alpine_latest.json")
    delivery, _ = delivery_store(source="trivy", body=body)

    result = delivery_process(delivery=delivery)

    assert result.scan.part == 0 and result.scan.workloads == []
    assert delivery.scans.count() == 1


def test_an_operator_yaml_posted_to_the_webhook_is_ingested(client, monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET_TRIVY_OPERATOR", "op-secret")

    response = client.generic(
        "POST",
        "/api/v1/webhooks/trivy-operator/",
        OPERATOR_YAML.read_bytes(),
        content_type="application/yaml",
        HTTP_AUTHORIZATION="Bearer op-secret",
    )

    assert response.status_code == 202, response.content
    delivery = Delivery.objects.get()
    delivery_run(delivery=delivery)
    scan = Scan.objects.get()
    assert scan.source == "trivy-operator"
    assert scan.workloads == [
        {"namespace": "default", "kind": "ReplicaSet", "name": "nginx-6d4cf56db6",
         "container": "nginx"}
    ]  # fmt: skip


def test_yaml_is_refused_at_other_webhooks(client, monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET", "s")

    response = client.generic(
        "POST",
        "/api/v1/webhooks/trivy/",
        OPERATOR_YAML.read_bytes(),
        content_type="application/yaml",
        HTTP_AUTHORIZATION="Bearer s",
    )

    assert response.status_code == 400


def test_the_api_shows_each_scan_with_its_workloads():
    delivery, _ = delivery_store(source="trivy-k8s", body=K8S_ALL.read_bytes())
    delivery_process(delivery=delivery)
    api = APIClient()
    api.force_authenticate(viewer("reader"))
    nginx = Scan.objects.get(tag__name="1.25.3")

    shown = api.get(f"/api/v1/scans/{nginx.pk}/").json()
    listed = api.get("/api/v1/deliveries/").json()["results"]

    assert shown["source"] == "trivy-k8s" and shown["part"] == 2
    assert shown["workloads"] == [
        {"cluster": "kind-remediator", "namespace": "default", "kind": "Deployment", "name": "web"}
    ]
    assert [d["scan"] for d in listed] == [Scan.objects.get(part=0).pk]


def test_the_ingest_command_prints_every_image():
    out = io.StringIO()
    call_command("ingest", str(K8S_ALL), "--source", "trivy-k8s", stdout=out)

    summary = json.loads(out.getvalue())
    assert summary["images"] == 3 and len(summary["scans"]) == 3
