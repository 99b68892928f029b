"""Risk decisions on a finding's page: accept, false positive, reopen (POST forms)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from findings.models import Finding
from remediator.engine.models import AuditEvent

from .factories import make_findings, make_tag


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def _events(finding: Finding):
    return AuditEvent.objects.filter(
        kind=AuditEvent.Kind.FINDING, object_type="finding", object_id=str(finding.pk)
    )


@pytest.fixture
def finding(db) -> Finding:
    return make_findings(make_tag(), 1)[0]


@pytest.mark.django_db
def test_approver_accepts_a_risk_with_a_reason_and_an_end_date(client_for, approver, finding):
    day = timezone.localdate() + timedelta(days=30)
    response = client_for(approver).post(
        f"/findings/{finding.pk}/accept/",
        {"reason": "Not reachable: no TLS here", "until": day.isoformat()},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/findings/{finding.pk}/"
    assert "risk accepted" in _messages(response)
    finding.refresh_from_db()
    assert finding.status == Finding.Status.ACCEPTED
    assert finding.status_reason == "Not reachable: no TLS here"
    assert timezone.localtime(finding.accepted_until).date() == day
    event = _events(finding).get()
    assert (event.actor, event.from_state, event.to_state) == (approver, "open", "accepted")
    page = response.content.decode()
    assert "Not reachable: no TLS here" in page
    assert day.isoformat() in page
    assert ">Reopen</button>" in page


@pytest.mark.django_db
def test_accept_without_a_reason_changes_nothing_and_says_why(client_for, approver, finding):
    response = client_for(approver).post(
        f"/findings/{finding.pk}/accept/", {"reason": "   ", "until": ""}, follow=True
    )
    assert response.status_code == 200
    assert "Not done: a reason is required" in _messages(response)
    finding.refresh_from_db()
    assert finding.status == Finding.Status.OPEN
    assert not _events(finding).exists()


@pytest.mark.django_db
def test_accept_until_a_past_day_or_a_bad_date_is_refused_with_a_message(
    client_for, approver, finding
):
    client = client_for(approver)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    past = client.post(
        f"/findings/{finding.pk}/accept/", {"reason": "ok", "until": yesterday}, follow=True
    )
    assert "must end in the future" in _messages(past)
    garbage = client.post(
        f"/findings/{finding.pk}/accept/", {"reason": "ok", "until": "soon"}, follow=True
    )
    assert "Not done: Enter a valid date" in _messages(garbage)
    finding.refresh_from_db()
    assert finding.status == Finding.Status.OPEN


@pytest.mark.django_db
def test_approver_marks_a_false_positive(client_for, approver, finding):
    response = client_for(approver).post(
        f"/findings/{finding.pk}/false-positive/",
        {"reason": "Package is not installed"},
        follow=True,
    )
    assert "false positive" in _messages(response)
    finding.refresh_from_db()
    assert finding.status == Finding.Status.FALSE_POSITIVE
    assert finding.status_reason == "Package is not installed"


@pytest.mark.django_db
def test_approver_reopens_an_accepted_finding(client_for, approver, finding):
    client = client_for(approver)
    client.post(f"/findings/{finding.pk}/accept/", {"reason": "later"})
    response = client.post(f"/findings/{finding.pk}/reopen/", follow=True)
    assert "reopened" in _messages(response)
    finding.refresh_from_db()
    assert finding.status == Finding.Status.OPEN
    assert finding.accepted_until is None
    assert list(_events(finding).order_by("id").values_list("to_state", flat=True)) == [
        "accepted",
        "open",
    ]
    assert ">Accept risk</button>" in response.content.decode()


@pytest.mark.django_db
def test_deciding_in_the_wrong_state_is_a_message_not_an_error(client_for, approver, finding):
    client = client_for(approver)
    response = client.post(f"/findings/{finding.pk}/reopen/", follow=True)
    assert response.status_code == 200
    assert "Not done: finding is open" in _messages(response)
    assert not _events(finding).exists()


@pytest.mark.django_db
def test_viewer_sees_the_forms_disabled_with_the_reason(client_for, viewer, finding):
    page = client_for(viewer).get(f"/findings/{finding.pk}/").content.decode()
    assert page.count("Security approvers decide about findings.") == 3
    assert 'name="op" value="accept" disabled' in page
    assert 'name="op" value="false-positive" disabled' in page
    assert 'name="op" value="investigate" disabled' in page


@pytest.mark.django_db
@pytest.mark.parametrize("op", ["accept", "false-positive", "reopen"])
def test_viewer_posting_a_decision_gets_403(client_for, viewer, finding, op):
    response = client_for(viewer).post(f"/findings/{finding.pk}/{op}/", {"reason": "mine"})
    assert response.status_code == 403
    finding.refresh_from_db()
    assert finding.status == Finding.Status.OPEN


@pytest.mark.django_db
def test_decisions_are_post_only(client_for, approver, finding):
    assert client_for(approver).get(f"/findings/{finding.pk}/accept/").status_code == 405


@pytest.mark.django_db
def test_a_fixed_finding_offers_no_decision(client_for, approver):
    fixed = make_findings(make_tag(), 1, fixed_days_ago=1)[0]
    page = client_for(approver).get(f"/findings/{fixed.pk}/").content.decode()
    assert "Accept risk" not in page
    assert "People decide about open findings" in page
