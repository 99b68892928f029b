"""Admin: env var names of secrets shown as set/not set (never values); actions via services."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from remediator.engine.models import (
    ActionState,
    AdmissionPolicy,
    AuditEvent,
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
        "vulnerability_ids": '["CVE-2024-6119"]',
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
