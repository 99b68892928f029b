"""Admin: env var names of secrets shown as set/not set (never values); actions via services."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from remediator.engine.models import (
    ActionState,
    AdmissionPolicy,
    AuditEvent,
    BuildTarget,
    Policy,
    RemediationAction,
)
from remediator.engine.rules.criteria import Criteria
from remediator.engine.services import scan_evaluate

from .factories import ingest, vuln

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, people):
    boss = User.objects.create(username="boss", is_staff=True, is_superuser=True)
    client.force_login(boss)
    return client


def test_build_target_list_says_which_secrets_are_set_never_their_values(admin_client, gitlab):
    page = admin_client.get("/admin/remediator/buildtarget/").content.decode()
    assert "REMEDIATOR_SECRET_GITLAB_TRIGGER (set)" in page
    assert "glptt-TRIGGER-secret" not in page and "glpat-API-secret" not in page


def test_every_engine_admin_page_renders(admin_client, defaults):
    [action] = scan_evaluate(scan_id=ingest(vuln()).pk)
    for url in [
        "/admin/remediator/policy/",
        "/admin/remediator/remediationaction/",
        f"/admin/remediator/remediationaction/{action.pk}/change/",
        "/admin/remediator/approval/",
        "/admin/remediator/auditevent/",
    ]:
        assert admin_client.get(url).status_code == 200, url
    assert admin_client.get("/admin/remediator/auditevent/add/").status_code == 403


def test_admin_approve_action_calls_the_approval_service(admin_client, defaults, gitlab):
    [action] = scan_evaluate(scan_id=ingest(vuln()).pk)
    response = admin_client.post(
        "/admin/remediator/remediationaction/",
        {"action": "approve_selected", "_selected_action": [action.pk]},
    )
    assert response.status_code == 302
    assert RemediationAction.objects.get(pk=action.pk).state == ActionState.APPROVED
    assert AuditEvent.objects.filter(action=action, actor__username="boss").exists()


def test_both_kinds_of_policy_are_edited_with_the_same_criteria_fields(admin_client):
    form = {
        "name": "both",
        "order": "5",
        "enabled": "on",
        "min_severity": "high",
        "fix_available": "true",
        "fix_grace_days": "14",
        "package_glob": "openssl*",
        "image_glob": "acme/*",
        "vulnerability_ids": "CVE-2024-6119\n",
        "min_age_days": "2",
        "kev": "on",
        "min_epss": "0.5",
        "running": "on",
        "namespace_glob": "prod-*",
    }
    pages = {}
    for path, extra in (("policy", {"action": "notify"}), ("admissionpolicy", {"mode": "warn"})):
        url = f"/admin/remediator/{path}/add/"
        pages[path] = admin_client.get(url).content.decode()
        assert admin_client.post(url, {**form, **extra}).status_code == 302, path
    for name in Criteria.__dataclass_fields__:
        assert f'name="{name}"' in pages["policy"] and f'name="{name}"' in pages["admissionpolicy"]
    criteria = list(Criteria.__dataclass_fields__)
    stored = [
        Policy.objects.filter(name="both").values(*criteria).get(),
        AdmissionPolicy.objects.filter(name="both").values(*criteria).get(),
    ]
    assert stored[0] == stored[1]
    assert (stored[0]["fix_available"], stored[0]["vulnerability_ids"]) == (True, ["CVE-2024-6119"])


def test_list_fields_are_shown_one_item_per_line_not_as_json(admin_client, gitlab):
    Policy.objects.create(
        name="listy", action="notify", vulnerability_ids=["CVE-2024-6119", "GHSA-aaaa-bbbb-cccc"]
    )
    policy = Policy.objects.get(name="listy")

    target_page = admin_client.get(f"/admin/remediator/buildtarget/{gitlab.pk}/change/")
    policy_page = admin_client.get(f"/admin/remediator/policy/{policy.pk}/change/")

    target_html, policy_html = target_page.content.decode(), policy_page.content.decode()
    assert "<textarea" in target_html and "\nregistry.example.com/acme/*</textarea>" in target_html
    assert "\nCVE-2024-6119\nGHSA-aaaa-bbbb-cccc</textarea>" in policy_html
    assert "[&quot;CVE-2024-6119&quot;" not in policy_html
    assert "One CVE / GHSA id per line" in policy_html


def test_typed_lines_are_stored_as_a_list_blank_lines_left_out(admin_client):
    form = {
        "name": "lines",
        "image_patterns": "  docker.io/acme/*\r\n\r\nghcr.io/acme/api  \r\n",
        "provider": "gitlab",
        "url": "https://gitlab.example.com",
        "project": "42",
        "ref": "main",
        "dockerfile_path": "Dockerfile",
        "options": "{}",
        "enabled": "on",
    }
    response = admin_client.post("/admin/remediator/buildtarget/add/", form)

    assert response.status_code == 302, response.content.decode()[:2000]
    target = BuildTarget.objects.get(name="lines")
    assert target.image_patterns == ["docker.io/acme/*", "ghcr.io/acme/api"]


def test_a_required_list_left_empty_is_refused_in_the_form(admin_client):
    form = {"name": "empty", "image_patterns": " \n ", "provider": "gitlab", "project": "1"}
    page = admin_client.post("/admin/remediator/buildtarget/add/", form).content.decode()
    assert "This field is required." in page and not BuildTarget.objects.filter(name="empty")
