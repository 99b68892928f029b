"""The ``team`` filter (a slug, ``unowned``, ``mine``) on findings, images and actions:
the page and the API give the same rows; pages default to "my teams" for a person in a
team, with "All teams" a choice away; the API applies no default."""

from __future__ import annotations

import pytest

from findings.models import Finding, Repository
from remediator.engine.models import RemediationAction
from remediator.teams.models import Team, TeamMembership
from tests.dashboard.conftest import make_user

from .conftest import api_ids, page_ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned(stock):
    """team/web (and the actions' web* repositories) belong to "web"; team/api to "api";
    the rest is unowned. The page's and the API's users are in team "web"."""
    web = Team.objects.create(slug="web", name="Web")
    api = Team.objects.create(slug="api", name="API")
    Repository.objects.filter(name__startswith="team/web").update(owner=web, owner_reason="t")
    Repository.objects.filter(name="team/api").update(owner=api, owner_reason="t")
    return web, api


@pytest.fixture
def members(owned, page_client, api_client):
    web, _ = owned
    for user in (page_client.session["_auth_user_id"], api_client.handler._force_user.pk):
        TeamMembership.objects.create(team=web, user_id=user)
    return page_client, api_client


QUERIES = ["team=web", "team=api", "team=unowned", "team=mine", "team=WEB"]


@pytest.mark.parametrize("query", QUERIES)
def test_findings_page_and_api_agree_on_the_team_filter(members, query):
    page_client, api_client = members
    page = page_ids(page_client, f"/findings/?status=active&sort=newest&{query}")
    api = api_ids(api_client, f"/api/v1/findings/?status=active&sort=newest&{query}")
    assert page == api
    assert page


@pytest.mark.parametrize("query", QUERIES)
def test_images_page_and_api_agree_on_the_team_filter(members, query):
    page_client, api_client = members
    page = page_ids(page_client, f"/images/?{query}")
    api = api_ids(api_client, f"/api/v1/images/?{query}", page_size=2)
    assert sorted(page) == sorted(api)
    assert page


@pytest.mark.parametrize("query", ["team=web", "team=unowned", "team=mine"])
def test_actions_page_and_api_agree_on_the_team_filter(members, query):
    page_client, api_client = members
    page = page_ids(page_client, f"/actions/?{query}")
    api = api_ids(api_client, f"/api/v1/actions/?{query}", page_size=4)
    assert page == api
    assert page


def test_the_team_filter_keeps_to_the_owner(members, owned):
    _, api_client = members
    _, api = owned
    rows = api_client.get("/api/v1/findings/?team=api&page_size=100").json()["results"]
    assert {row["owner"] for row in rows} == {"api"}
    assert set(
        Finding.objects.filter(pk__in=[r["id"] for r in rows]).values_list(
            "repository__owner", flat=True
        )
    ) == {api.pk}
    unowned = api_client.get("/api/v1/images/?team=unowned&page_size=100").json()["results"]
    assert unowned and {row["owner"] for row in unowned} == {None}
    assert api_client.get("/api/v1/findings/?team=nosuch").json()["results"] == []


def test_pages_default_to_my_teams_for_a_member_with_all_teams_a_choice_away(members):
    page_client, api_client = members
    mine = page_ids(page_client, "/findings/?status=active&sort=newest")
    assert mine == page_ids(page_client, "/findings/?status=active&sort=newest&team=mine")
    everything = page_ids(page_client, "/findings/?status=active&sort=newest&team=")
    assert set(mine) < set(everything)
    html = page_client.get("/findings/").content.decode()
    assert '<option value="mine" selected>My teams</option>' in html
    assert '<option value="">All teams</option>' in html
    assert '<th scope="col">Owner</th>' in html
    # the API applies no default: a script sees what it asks for
    assert len(api_ids(api_client, "/api/v1/findings/?status=active")) == len(everything)
    actions = page_client.get("/actions/").context["page"].rows
    assert actions and {a.repository.owner.slug for a in actions} == {"web"}
    approvals = page_client.get("/approvals/").context["rows"]
    waiting = RemediationAction.objects.filter(state="awaiting_approval")
    assert [row["action"].pk for row in approvals] == list(
        waiting.filter(repository__owner__slug="web").order_by("id").values_list("pk", flat=True)
    )


def test_a_person_in_no_team_sees_every_team_by_default(owned, stock, client):
    client.force_login(make_user("nomad", "Viewer"))
    everything = page_ids(client, "/findings/?status=active&sort=newest")
    assert len(everything) == Finding.objects.open().count()


def test_the_image_page_says_who_owns_it_and_why(members, owned):
    page_client, _ = members
    repository = Repository.objects.get(name="team/web")
    Repository.objects.filter(pk=repository.pk).update(
        owner_reason="rule 10: image registry.test/team/*"
    )
    html = page_client.get(f"/images/{repository.pk}/").content.decode()
    assert 'Owner: <span class="owner" title="Owned by Web">Web</span>' in html
    assert "(rule 10: image registry.test/team/*)" in html
    detail = page_client.get(f"/api/v1/images/{repository.pk}/").json()
    assert (detail["owner"], detail["owner_reason"]) == (
        "web",
        "rule 10: image registry.test/team/*",
    )
    action = RemediationAction.objects.filter(repository=repository).first()
    assert page_client.get(f"/api/v1/actions/{action.pk}/").json()["owner"] == "web"
