"""Bulk decisions: each finding goes through the single decision (same permission,
states and four eyes), gets its own audit event naming one batch, and one that cannot
be decided is reported while the others go ahead. Page and API alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from findings.models import Finding
from remediator.engine.models import ActionState, AuditEvent, RemediationAction
from remediator.engine.services import ActionNotAllowed, action_approve
from remediator.engine.services.bulk import BULK_MAX, findings_decide_bulk

from .factories import make_findings, make_tag

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _events(ids):
    return AuditEvent.objects.filter(
        kind="finding", object_type="finding", object_id__in=[str(i) for i in ids]
    )


def test_bulk_accept_audits_each_finding_in_one_batch_and_reports_the_rest(approver):
    tag = make_tag()
    findings = make_findings(tag, 4)
    Finding.objects.filter(pk=findings[3].pk).update(status=Finding.Status.FIXED)
    until = timezone.now() + timedelta(days=30)
    ids = [f.pk for f in findings] + [10**12]
    results = findings_decide_bulk(
        operation="accept", finding_ids=ids, user=approver, reason="vendor says no", until=until
    )
    assert [r.ok for r in results] == [True, True, True, False, False]
    assert results[3].code == "wrong_state"
    assert results[4].code == "not_found"
    accepted = Finding.objects.filter(pk__in=ids[:3])
    assert {f.status for f in accepted} == {"accepted"}
    assert {f.accepted_until for f in accepted} == {until}
    events = list(_events(ids))
    assert sorted(int(e.object_id) for e in events) == sorted(ids[:3])
    assert len({e.data["batch"] for e in events}) == 1
    assert {e.actor_id for e in events} == {approver.pk}
    assert Finding.objects.get(pk=findings[3].pk).status == "fixed"


@pytest.mark.parametrize(
    ("operation", "reason", "until", "code"),
    [
        ("accept", "", timezone.now() + timedelta(days=1), "incomplete"),
        ("accept", "why", None, "incomplete"),
        ("accept", "why", timezone.now() - timedelta(days=1), "until_past"),
        ("false_positive", " ", None, "incomplete"),
        ("delete", "why", None, "invalid"),
    ],
)
def test_a_bad_bulk_request_changes_nothing(approver, operation, reason, until, code):
    findings = make_findings(make_tag(), 2)
    with pytest.raises(ActionNotAllowed) as refused:
        findings_decide_bulk(
            operation=operation,
            finding_ids=[f.pk for f in findings],
            user=approver,
            reason=reason,
            until=until,
        )
    assert refused.value.code == code
    assert set(Finding.objects.values_list("status", flat=True)) == {"open"}
    assert not _events([f.pk for f in findings]).exists()


def test_a_viewer_may_not_decide_in_bulk(viewer):
    findings = make_findings(make_tag(), 2)
    for operation in ("false_positive", "rebuild"):
        with pytest.raises(ActionNotAllowed) as refused:
            findings_decide_bulk(
                operation=operation, finding_ids=[f.pk for f in findings], user=viewer, reason="x"
            )
        assert refused.value.code == "permission_denied"
    assert set(Finding.objects.values_list("status", flat=True)) == {"open"}


def test_bulk_rebuild_is_one_request_per_tag_bound_by_four_eyes(
    approver, second_approver, ready_target
):
    web, api = make_tag("team/web"), make_tag("team/api")
    on_web = make_findings(web, 3)
    unfixable = make_findings(web, 1, fixable=False)
    on_api = make_findings(api, 2)
    ids = [f.pk for f in on_web + unfixable + on_api]
    results = findings_decide_bulk(operation="rebuild", finding_ids=ids, user=approver, reason="")
    actions = RemediationAction.objects.order_by("pk")
    assert actions.count() == 2
    assert {a.state for a in actions} == {ActionState.AWAITING_APPROVAL}
    assert [r.ok for r in results] == [True, True, True, False, True, True]
    assert results[3].code == "not_covered"
    assert len(_events(ids)) == 5  # one per covered finding, naming its action
    # four eyes: who asked cannot approve; someone else can
    with pytest.raises(ActionNotAllowed) as refused:
        action_approve(action_id=results[0].action_id, user=approver)
    assert refused.value.code == "four_eyes"
    assert action_approve(action_id=results[0].action_id, user=second_approver).state in (
        ActionState.APPROVED,
        ActionState.DISPATCHED,
        ActionState.FAILED,
    )


def test_bulk_api_answers_per_item_results(approver):
    findings = make_findings(make_tag(), 3)
    Finding.objects.filter(pk=findings[0].pk).update(status=Finding.Status.ACCEPTED)
    answer = _api(approver).post(
        "/api/v1/findings/bulk/",
        {"operation": "false_positive", "ids": [f.pk for f in findings], "reason": "test image"},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["done"], body["failed"]) == (2, 1)
    assert [r["finding_id"] for r in body["results"]] == [f.pk for f in findings]
    assert body["results"][0]["code"] == "wrong_state"
    assert body["results"][1]["status"] == "false_positive"


@pytest.mark.parametrize(
    "payload",
    [
        {"operation": "false_positive", "ids": [], "reason": "x"},
        {"operation": "false_positive", "ids": list(range(1, BULK_MAX + 2)), "reason": "x"},
        {"operation": "false_positive", "ids": ["abc"], "reason": "x"},
        {"operation": "false_positive", "ids": [2**63], "reason": "x"},
        {"operation": "nuke", "ids": [1], "reason": "x"},
        {"ids": [1]},
        [1, 2],
    ],
)
def test_bulk_api_refuses_bad_input_with_a_400_naming_it(approver, payload):
    answer = _api(approver).post("/api/v1/findings/bulk/", payload, format="json")
    assert answer.status_code == 400, answer.content
    assert answer.json()["detail"]


@pytest.mark.parametrize(
    "payload",
    [
        {"operation": "accept", "ids": [1], "reason": "x"},
        {"operation": "accept", "ids": [1], "reason": "x", "until": "2001-01-01T00:00:00Z"},
        {"operation": "false_positive", "ids": [1], "reason": ""},
    ],
)
def test_bulk_api_answers_422_for_what_the_operation_needs(approver, payload):
    answer = _api(approver).post("/api/v1/findings/bulk/", payload, format="json")
    assert answer.status_code == 422, answer.content
    assert answer.json()["error"] in ("incomplete", "until_past")


def test_bulk_api_is_403_for_a_viewer(viewer):
    findings = make_findings(make_tag(), 1)
    answer = _api(viewer).post(
        "/api/v1/findings/bulk/",
        {"operation": "false_positive", "ids": [findings[0].pk], "reason": "x"},
        format="json",
    )
    assert answer.status_code == 403
    assert answer.json()["error"] == "permission_denied"


def test_the_page_bulk_bar_accepts_the_checked_findings(client_for, approver):
    findings = make_findings(make_tag(), 3)
    client = client_for(approver)
    page = client.get("/findings/").content.decode()
    assert 'id="bulk"' in page and 'name="finding"' in page
    day = (timezone.localdate() + timedelta(days=10)).isoformat()
    answer = client.post(
        "/findings/bulk/",
        {
            "operation": "accept",
            "finding": [findings[0].pk, findings[1].pk],
            "reason": "mitigated",
            "until": day,
            "next": "/findings/",
        },
        follow=True,
    )
    assert "Accept risk: 2 findings done." in answer.content.decode()
    assert sorted(Finding.objects.values_list("status", flat=True)) == [
        "accepted",
        "accepted",
        "open",
    ]


def test_the_page_says_why_when_nothing_is_checked(client_for, approver):
    make_findings(make_tag(), 1)
    answer = client_for(approver).post(
        "/findings/bulk/", {"operation": "false_positive", "reason": "x"}, follow=True
    )
    assert "Not done: findings:" in answer.content.decode()


def test_a_viewer_sees_no_bulk_bar(client_for, viewer):
    make_findings(make_tag(), 1)
    page = client_for(viewer).get("/findings/").content.decode()
    assert 'id="bulk"' not in page
