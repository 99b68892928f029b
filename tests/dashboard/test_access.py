"""Sign-in and roles: every page checks permission on the server."""

from __future__ import annotations

import pytest

from remediator.engine.models import ActionState

from .factories import make_action, make_findings, make_tag

PAGES = [
    "/",
    "/images/",
    "/findings/",
    "/findings/export.csv",
    "/deliveries/",
    "/actions/",
    "/approvals/",
    "/policies/",
    "/audit/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitor_is_sent_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_signed_in_user_without_a_group_gets_403(client_for, nobody, path):
    assert client_for(nobody).get(path).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_viewer_sees_every_page(client_for, viewer, path):
    assert client_for(viewer).get(path).status_code == 200


@pytest.mark.django_db
def test_login_page_signs_in_and_returns_to_next(client, viewer):
    from .conftest import PASSWORD

    page = client.get("/login/?next=/findings/")
    assert page.status_code == 200 and b'name="password"' in page.content
    response = client.post(
        "/login/", {"username": "victor", "password": PASSWORD, "next": "/findings/"}
    )
    assert response.status_code == 302 and response["Location"] == "/findings/"


@pytest.mark.django_db
def test_logout_is_a_post_and_ends_the_session(client_for, viewer):
    client = client_for(viewer)
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("op", ["approve", "reject", "cancel", "retry"])
def test_viewer_posting_an_action_anyway_gets_403_and_nothing_changes(client_for, viewer, op):
    tag = make_tag()
    action = make_action(tag, findings=make_findings(tag, 2))
    response = client_for(viewer).post(f"/actions/{action.pk}/{op}/", {"reason": "because"})
    assert response.status_code == 403
    action.refresh_from_db()
    assert action.state == ActionState.AWAITING_APPROVAL


@pytest.mark.django_db
def test_viewer_cannot_request_a_rebuild(client_for, viewer):
    tag = make_tag()
    response = client_for(viewer).post(f"/tags/{tag.pk}/rebuild/")
    assert response.status_code == 403


@pytest.mark.django_db
def test_action_views_refuse_get(client_for, approver):
    tag = make_tag()
    action = make_action(tag)
    assert client_for(approver).get(f"/actions/{action.pk}/approve/").status_code == 405
