"""A delivery's page: its scans linked to their images and findings, and Reprocess
(findings.change_delivery), which queues it again through the intake and is audited."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from findings.models import Delivery, Finding, Scan
from remediator.engine.models import AuditEvent
from remediator.intake.receive import delivery_process
from remediator.intake.store import delivery_store

from .factories import make_findings, make_tag

pytestmark = pytest.mark.django_db
TRIVY = "trivy/trivy_alpine-39.json"


@pytest.fixture
def reprocessor(staff_viewer):
    """Staff in the Viewer group, given the permission to change deliveries."""
    staff_viewer.user_permissions.add(Permission.objects.get(codename="change_delivery"))
    return type(staff_viewer).objects.get(pk=staff_viewer.pk)


@pytest.fixture
def processed(fixture_bytes) -> Delivery:
    delivery, _ = delivery_store(source="trivy", body=fixture_bytes(TRIVY))
    delivery_process(delivery=delivery)
    return Delivery.objects.get(pk=delivery.pk, status="processed")


def test_the_page_links_each_scan_to_its_image_and_findings(client_for, viewer, processed):
    scan = Scan.objects.select_related("tag__repository").get(delivery=processed)
    repository, n = scan.tag.repository, scan.findings_count
    assert n > 1

    page = client_for(viewer).get(f"/deliveries/{processed.pk}/").content.decode()
    listing = client_for(viewer).get("/deliveries/").content.decode()

    image = f'href="/images/{repository.pk}/">{repository.registry}/{repository.name}</a>:'
    assert image + scan.tag.name in page
    assert f'href="/images/{repository.pk}/">{repository.name}:{scan.tag.name}</a>' in listing
    findings = f'href="/findings/?scan={scan.pk}&amp;status=">{n} findings</a>'
    assert findings in page and findings in listing


def test_the_findings_link_lists_what_that_scan_saw(client_for, viewer):
    tag = make_tag()
    scan = make_findings(tag, 2)[0].first_scan
    make_findings(tag, 1, package="zlib")  # another scan of the same tag

    page = client_for(viewer).get(f"/findings/?scan={scan.pk}&status=").content.decode()

    assert page.count("openssl") >= 2 and "zlib" not in page


def test_a_viewer_sees_reprocess_disabled_with_the_reason(client_for, viewer, processed):
    page = client_for(viewer).get(f"/deliveries/{processed.pk}/").content.decode()
    assert "Reprocess</button>" in page and "disabled" in page
    assert "Reprocessing needs the permission to change deliveries" in page


def test_a_viewer_may_not_post_reprocess(client_for, viewer, processed):
    response = client_for(viewer).post(f"/deliveries/{processed.pk}/reprocess/")
    assert response.status_code == 403
    assert Delivery.objects.get(pk=processed.pk).status == "processed"
    assert not AuditEvent.objects.filter(object_type="delivery").exists()


def test_reprocess_queues_it_again_audited_and_changes_no_finding(
    client_for, reprocessor, processed
):
    findings_before = list(Finding.objects.values_list("id", "status", "first_seen"))
    client = client_for(reprocessor)
    assert "Reprocess</button>" in client.get(f"/deliveries/{processed.pk}/").content.decode()

    response = client.post(f"/deliveries/{processed.pk}/reprocess/", follow=True)

    assert response.redirect_chain[-1][0] == f"/deliveries/{processed.pk}/"
    assert f"Delivery #{processed.pk} queued to be processed again." in response.content.decode()
    [event] = AuditEvent.objects.filter(object_type="delivery", object_id=str(processed.pk))
    assert (event.kind, event.actor_id, event.from_state, event.to_state) == (
        "transition",
        reprocessor.pk,
        "processed",
        "queued",
    )
    audit = client.get("/audit/?object=delivery").content.decode()
    assert f'<a href="/deliveries/{processed.pk}/">delivery #{processed.pk}</a>' in audit
    delivery_process(delivery=Delivery.objects.get(pk=processed.pk, status="queued"))
    assert Delivery.objects.get(pk=processed.pk).status == "processed"
    assert Scan.objects.count() == 1
    assert list(Finding.objects.values_list("id", "status", "first_seen")) == findings_before


def test_reprocess_of_a_queued_delivery_is_refused_with_a_message(client_for, reprocessor):
    delivery, _ = delivery_store(source="trivy", body=b"x")
    client = client_for(reprocessor)
    page = client.get(f"/deliveries/{delivery.pk}/").content.decode()
    assert "It is queued already" in page

    response = client.post(f"/deliveries/{delivery.pk}/reprocess/", follow=True)

    assert "Not reprocessed: delivery" in response.content.decode()
    assert not AuditEvent.objects.filter(object_type="delivery").exists()


def test_reprocess_of_an_unknown_delivery_is_404(client_for, reprocessor):
    assert client_for(reprocessor).post("/deliveries/999999/reprocess/").status_code == 404
