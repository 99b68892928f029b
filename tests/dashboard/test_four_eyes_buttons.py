"""The approve/reject buttons follow the service's four-eyes rule: whoever's own
rebuild request created or joined an action sees them disabled."""

from __future__ import annotations

import pytest

from remediator.engine.models import ActionState
from remediator.engine.services import action_request_rebuild

from .conftest import make_user
from .factories import make_findings, make_tag

FOUR_EYES = "You asked for this action; someone else must approve it (four eyes)."


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


@pytest.fixture
def joined_action(db, approver, second_approver):
    """Bob requests a rebuild; Alice's later request for new findings joins it."""
    tag = make_tag()
    make_findings(tag, 2)
    action = action_request_rebuild(tag=tag, user=second_approver, reason="bob asks")
    make_findings(tag, 1)
    joined = action_request_rebuild(tag=tag, user=approver, reason="alice asks")
    assert joined.pk == action.pk and joined.requested_by == second_approver
    assert action.findings.count() == 3
    return action


def _approve_button(page: str, action_pk: int) -> str:
    start = page.index(f'action="/actions/{action_pk}/approve/"')
    return page[start : page.index("</form>", start)]


@pytest.mark.django_db
def test_person_whose_request_joined_an_action_sees_approve_disabled(
    client_for, approver, joined_action
):
    client = client_for(approver)
    for path in ("/approvals/", f"/actions/{joined_action.pk}/"):
        form = _approve_button(client.get(path).content.decode(), joined_action.pk)
        assert "disabled" in form, path
        assert FOUR_EYES in form, path
    response = client.post(f"/actions/{joined_action.pk}/approve/", follow=True)
    assert "four eyes" in _messages(response)
    joined_action.refresh_from_db()
    assert joined_action.state == ActionState.AWAITING_APPROVAL


@pytest.mark.django_db
def test_an_approver_who_asked_for_nothing_sees_approve_enabled(
    client_for, joined_action, ready_target
):
    carol = make_user("carol", "Security approvers")
    client = client_for(carol)
    for path in ("/approvals/", f"/actions/{joined_action.pk}/"):
        form = _approve_button(client.get(path).content.decode(), joined_action.pk)
        assert "disabled" not in form, path
    client.post(f"/actions/{joined_action.pk}/approve/")
    joined_action.refresh_from_db()
    assert joined_action.state == ActionState.APPROVED
