"""Signing in through a real OpenID provider (the authorization-code flow with PKCE):
roles and teams from the groups claim, re-evaluated at each sign-in; refusals."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from remediator.core.permissions import GROUP_APPROVERS, GROUP_VIEWER
from remediator.engine.models import AuditEvent
from remediator.teams.models import SsoIdentity, Team, TeamMembership

from .conftest import ADMINS, APPROVERS, VIEWERS, sso_sign_in

User = get_user_model()


def groups_of(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def test_an_approver_signs_in_through_the_provider(sso, client):
    sso.account_set(
        "sub-alice", preferred_username="alice", email="alice@example.com", groups=[APPROVERS]
    )

    response = sso_sign_in(client, "sub-alice", "/approvals/")

    assert response.status_code == 302 and response["Location"] == "/approvals/"
    alice = User.objects.get(sso_identity__subject="sub-alice")
    assert alice.username == "alice" and alice.email == "alice@example.com"
    assert groups_of(alice) == {GROUP_APPROVERS}
    assert not alice.is_staff and not alice.is_superuser
    assert not alice.has_usable_password()
    assert SsoIdentity.objects.get(user=alice).issuer == sso.issuer
    assert client.get("/approvals/").status_code == 200
    event = AuditEvent.objects.filter(kind="sign_in").get()
    assert event.actor == alice and event.data["roles"] == ["approver"]


def test_roles_are_re_evaluated_at_each_sign_in(sso, client):
    sso.account_set("sub-bob", preferred_username="bob", groups=[ADMINS, "other"])
    sso_sign_in(client, "sub-bob")
    bob = User.objects.get(username="bob")
    assert bob.is_staff and bob.is_superuser

    sso.account_set("sub-bob", preferred_username="bob", groups=[VIEWERS])
    client.logout()
    sso_sign_in(client, "sub-bob")
    bob.refresh_from_db()
    assert not bob.is_staff and not bob.is_superuser
    assert groups_of(bob) == {GROUP_VIEWER}
    assert client.get("/findings/").status_code == 200
    assert client.post("/policies/dry-run/").status_code != 403  # a Viewer's button
    assert User.objects.filter(username__startswith="bob").count() == 1


def test_a_group_removed_at_the_provider_takes_the_role_away(sso, client):
    sso.account_set("sub-cyd", preferred_username="cyd", groups=[APPROVERS, VIEWERS])
    sso_sign_in(client, "sub-cyd")
    cyd = User.objects.get(username="cyd")
    assert groups_of(cyd) == {GROUP_APPROVERS, GROUP_VIEWER}

    sso.account_set("sub-cyd", preferred_username="cyd", groups=[VIEWERS])
    client.logout()
    sso_sign_in(client, "sub-cyd")
    assert groups_of(cyd) == {GROUP_VIEWER}
    assert not cyd.has_perm("remediator.approve_action")


def test_team_memberships_follow_the_groups_and_manual_ones_stay(sso, client):
    payments = Team.objects.create(slug="payments", name="Payments", sso_groups=["pay-devs"])
    web = Team.objects.create(slug="web", name="Web", sso_groups=["web-devs", "web-ops"])
    ops = Team.objects.create(slug="ops", name="Ops", sso_groups=["ops"])
    Team.objects.create(slug="data", name="Data", sso_groups=[])
    sso.account_set("sub-dee", preferred_username="dee", groups=[VIEWERS, "pay-devs", "web-ops"])
    sso_sign_in(client, "sub-dee")
    dee = User.objects.get(username="dee")
    TeamMembership.objects.create(team=ops, user=dee)  # given by hand, not by a group

    def memberships() -> dict[str, str]:
        return dict(TeamMembership.objects.filter(user=dee).values_list("team__slug", "source"))

    assert memberships() == {"payments": "sso", "web": "sso", "ops": "manual"}

    sso.account_set("sub-dee", preferred_username="dee", groups=[VIEWERS, "web-devs"])
    client.logout()
    sso_sign_in(client, "sub-dee")
    assert memberships() == {"web": "sso", "ops": "manual"}
    assert set(dee.teams.values_list("slug", flat=True)) == {"web", "ops"}
    assert payments.members.count() == 0 and web.members.get() == dee


def test_someone_in_no_mapped_group_is_refused_with_a_page_and_audited(sso, client):
    sso.account_set("sub-eve", preferred_username="eve", groups=["marketing"])

    response = sso_sign_in(client, "sub-eve")

    assert response.status_code == 403
    assert b"Your account has no role in Remediator" in response.content
    assert not User.objects.filter(username="eve").exists()
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(kind="sign_in")
    assert "refused" in event.message and event.data["subject"] == "sub-eve"
    assert event.data["groups"] == ["marketing"]


def test_a_known_person_refused_later_loses_every_role_and_sso_team(sso, client):
    team = Team.objects.create(slug="payments", name="Payments", sso_groups=["pay-devs"])
    sso.account_set("sub-fay", preferred_username="fay", groups=[ADMINS, "pay-devs"])
    sso_sign_in(client, "sub-fay")
    fay = User.objects.get(username="fay")
    assert fay.is_superuser and team.members.get() == fay

    sso.account_set("sub-fay", preferred_username="fay", groups=["pay-devs"])
    client.logout()
    response = sso_sign_in(client, "sub-fay")

    assert response.status_code == 403
    fay.refresh_from_db()
    assert not fay.is_superuser and not fay.is_staff and groups_of(fay) == set()
    assert team.members.count() == 0


def test_people_are_matched_by_sub_never_by_email_or_user_name(sso, client):
    local = User.objects.create_superuser("gil", "gil@example.com", "local-pass-123")
    sso.account_set("sub-gil", preferred_username="gil", email="gil@example.com", groups=[VIEWERS])

    sso_sign_in(client, "sub-gil")

    signed_in = User.objects.get(pk=client.session["_auth_user_id"])
    assert signed_in != local and signed_in.username == "gil-2"
    assert not signed_in.is_superuser
    local.refresh_from_db()
    assert local.is_superuser and not hasattr(local, "sso_identity")
