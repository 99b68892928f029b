"""Where a vulnerable digest runs: image, finding and overview pages."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from findings.models import Finding, Image, RunningImage
from tests.engine.factories import digest, ingest, vuln

pytestmark = pytest.mark.django_db
PODS = Path(__file__).parent.parent / "fixtures" / "inventory" / "kubectl_pods_kuard.json"
KUARD_DIGEST = "sha256:bd17153e9a3319f401acc7a27759243f37d422c06cbbf01cb3e1f54bbbfe14f4"


@pytest.fixture
def running(db):
    """kuard 1 scanned (its running digest has a critical CVE) and pushed as running."""
    scan = ingest(vuln("CVE-2024-6119"), image="gcr.io/kuar-demo/kuard-amd64", tag="1", digest_no=1)
    Image.objects.filter(pk=scan.image_id).update(digest=KUARD_DIGEST)
    call_command("inventory_import", str(PODS), "--cluster", "minikube", stdout=StringIO())
    return scan


@pytest.fixture
def signed_in(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "r@x.org", "pw"))
    return client


def test_the_image_page_shows_where_each_digest_runs(signed_in, running):
    body = signed_in.get(f"/images/{running.image.repository_id}/").content.decode()
    assert "Where it runs" in body
    assert "minikube / <strong>default</strong>" in body
    assert "ReplicaSet/<strong>queue</strong>" in body
    assert "(current 1)" in body


def test_the_finding_page_shows_where_its_digest_runs(signed_in, running):
    finding = Finding.objects.get(vulnerability_id="CVE-2024-6119")
    body = signed_in.get(f"/findings/{finding.pk}/").content.decode()
    assert "ReplicaSet/<strong>queue</strong>" in body


def test_the_finding_page_says_when_nothing_runs_it(signed_in, db):
    scan = ingest(vuln("CVE-2024-0002"), image="example.com/idle", digest_no=3)
    finding = Finding.objects.get(repository_id=scan.image.repository_id)
    body = signed_in.get(f"/findings/{finding.pk}/").content.decode()
    assert "No cluster has reported running a digest with this finding." in body


def test_the_overview_ranks_running_images_by_exposure(signed_in, running):
    clean = ingest(image="example.com/clean", digest_no=4)
    RunningImage.objects.create(
        cluster="minikube",
        namespace="prod",
        kind="Deployment",
        name="clean",
        container="app",
        image_ref="example.com/clean",
        repository_id=clean.image.repository_id,
        digest=digest(4),
        image_id=clean.image_id,
        source="inventory",
        first_seen=timezone.now(),
        last_seen=timezone.now(),
    )
    body = signed_in.get("/").content.decode()
    section = body[body.index("Most exposed images") :]
    assert section.index("kuard-amd64") < section.index("example.com/clean")
