"""Admin: env var names of secrets shown as set/not set (never values); actions via services."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from remediator.engine.models import ActionState, AuditEvent, RemediationAction
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


def test_admin_approve_action_calls_the_approval_service(admin_client, defaults):
    [action] = scan_evaluate(scan_id=ingest(vuln()).pk)
    response = admin_client.post(
        "/admin/remediator/remediationaction/",
        {"action": "approve_selected", "_selected_action": [action.pk]},
    )
    assert response.status_code == 302
    assert RemediationAction.objects.get(pk=action.pk).state == ActionState.APPROVED
    assert AuditEvent.objects.filter(action=action, actor__username="boss").exists()
