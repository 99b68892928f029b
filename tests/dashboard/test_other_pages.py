"""Images, deliveries, actions, approvals, policies and audit pages."""

from __future__ import annotations

import pytest

from remediator.engine.audit import audit_record
from remediator.engine.models import ActionState
from remediator.intake.receive import delivery_process
from remediator.intake.store import DeliveryRejected, delivery_store

from .factories import make_action, make_findings, make_scan, make_tag


@pytest.mark.django_db
def test_image_list_filters_by_registry_severity_and_fixable(client_for, viewer):
    make_findings(make_tag("team/crit", registry="ghcr.io"), 1, severities=["critical"])
    make_findings(make_tag("team/low", registry="quay.io"), 1, severities=["low"], fixable=False)
    client = client_for(viewer)
    page = client.get("/images/?registry=ghcr.io").content.decode()
    assert "team/crit" in page and "team/low" not in page
    page = client.get("/images/?min_severity=high").content.decode()
    assert "team/crit" in page and "team/low" not in page
    page = client.get("/images/?fixable=yes").content.decode()
    assert "team/crit" in page and "team/low" not in page
    page = client.get("/images/?q=lo").content.decode()
    assert "team/low" in page and "team/crit" not in page


@pytest.mark.django_db
def test_image_detail_groups_open_findings_by_package(client_for, approver):
    tag = make_tag("team/web")
    make_findings(tag, 3, package="openssl")
    make_scan(tag)
    page = client_for(approver).get(f"/images/{tag.repository_id}/").content.decode()
    assert page.count("<code>openssl</code>") == 3  # one row per installed version
    assert "Request rebuild" in page and "disabled" not in page.split("Request rebuild")[0][-200:]


@pytest.mark.django_db
def test_viewer_sees_the_rebuild_button_disabled_with_the_reason(client_for, viewer):
    tag = make_tag()
    page = client_for(viewer).get(f"/images/{tag.repository_id}/").content.decode()
    assert "Only Security approvers can request rebuilds." in page


@pytest.mark.django_db
def test_rejected_delivery_shows_the_error_and_the_escaped_body(client_for, staff_viewer):
    delivery, _ = delivery_store(source="trivy", body=b"<script>alert(1)</script> not json")
    with pytest.raises(DeliveryRejected):
        delivery_process(delivery=delivery)
    client = client_for(staff_viewer)
    listing = client.get("/deliveries/?status=rejected").content.decode()
    assert f"#{delivery.pk}" in listing and "Rejected" in listing
    page = client.get(f"/deliveries/{delivery.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "not JSON" in page


@pytest.mark.django_db
def test_viewer_sees_a_deliverys_error_but_not_its_raw_body(client_for, viewer):
    delivery, _ = delivery_store(source="trivy", body=b"token=hunter2 not json")
    with pytest.raises(DeliveryRejected):
        delivery_process(delivery=delivery)
    page = client_for(viewer).get(f"/deliveries/{delivery.pk}/").content.decode()
    assert "not JSON" in page and "Raw bodies are shown to staff only." in page
    assert "hunter2" not in page


@pytest.mark.django_db
def test_raw_body_is_capped(client_for, staff_viewer):
    body = b'{"x": "' + b"a" * (200 * 1024) + b'"}'
    delivery, _ = delivery_store(source="trivy", body=body)
    page = client_for(staff_viewer).get(f"/deliveries/{delivery.pk}/").content.decode()
    assert "Showing the first 64.0" in page
    assert page.count("a" * 1000) < 70


@pytest.mark.django_db
def test_actions_list_tabs_by_state(client_for, viewer):
    failed = make_action(make_tag("team/f"), state=ActionState.FAILED)
    waiting = make_action(make_tag("team/w"))
    client = client_for(viewer)
    page = client.get("/actions/?tab=failed").content.decode()
    assert f"#{failed.pk}<" in page and f"#{waiting.pk}<" not in page


@pytest.mark.django_db
def test_approval_queue_lists_waiting_actions_with_their_findings(client_for, viewer, approver):
    tag = make_tag("team/api")
    findings = make_findings(tag, 10, severities=["critical"])
    make_action(tag, findings=findings, requested_by=approver)
    make_action(make_tag("team/done"), state=ActionState.VERIFIED)
    page = client_for(viewer).get("/approvals/").content.decode()
    assert "team/api" in page and "team/done" not in page
    assert "Covers <strong>10</strong>" in page
    assert "Only Security approvers can approve or reject." in page
    assert page.count("disabled") >= 2


@pytest.mark.django_db
def test_empty_queue_says_so(client_for, viewer):
    page = client_for(viewer).get("/approvals/").content.decode()
    assert "Nothing is waiting for approval" in page


@pytest.mark.django_db
def test_policies_page_lists_rules_and_runs_a_dry_run(client_for, viewer):
    make_findings(make_tag(), 3, severities=["critical"])
    client = client_for(viewer)
    page = client.get("/policies/").content.decode()
    assert "Dry run" in page
    page = client.get("/policies/?dry_run=1").content.decode()
    assert "what each rule would do" in page and "(no rule matched)" in page


@pytest.mark.django_db
def test_audit_log_filters_by_kind_actor_and_object(client_for, viewer, approver):
    action = make_action(make_tag())
    audit_record(kind="transition", action=action, actor=approver, message="moved it")
    audit_record(kind="config", actor_label="system", message="other thing")
    client = client_for(viewer)
    page = client.get("/audit/?kind=transition").content.decode()
    assert "moved it" in page and "other thing" not in page
    page = client.get("/audit/?actor=alice").content.decode()
    assert "moved it" in page and "other thing" not in page
    page = client.get(f"/audit/?object=remediationaction:{action.pk}").content.decode()
    assert "moved it" in page and "other thing" not in page


@pytest.mark.django_db
def test_nav_badge_counts_waiting_approvals(client_for, viewer):
    make_action(make_tag("a"))
    make_action(make_tag("b"))
    page = client_for(viewer).get("/images/").content.decode()
    assert 'class="badge" aria-label="2 waiting"' in page
