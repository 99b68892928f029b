"""Overdue and days left on the findings page and in the API; ``due_before`` and
``overdue`` select the same findings on both (one FilterSet)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from findings.models import Finding
from tests.dashboard.factories import make_findings, make_tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def findings(db) -> dict[str, Finding]:
    """Five findings: overdue by 3 days, due in 2 days (soon), due in 40 days, no
    deadline, and one fixed 4 days after its deadline."""
    now = timezone.now()
    rows = make_findings(make_tag("shop/web"), 5, severities=["high"])
    named = dict(zip(["late", "soon", "later", "none", "fixed"], rows, strict=True))
    dues = {
        "late": now - timedelta(days=3, hours=1),
        "soon": now + timedelta(days=2, hours=1),
        "later": now + timedelta(days=40, hours=1),
        "fixed": now - timedelta(days=10),
    }
    for name, due in dues.items():
        Finding.objects.filter(pk=named[name].pk).update(due_at=due)
    Finding.objects.filter(pk=named["fixed"].pk).update(
        status="fixed", fixed_at=now - timedelta(days=6)
    )
    return {name: Finding.objects.get(pk=f.pk) for name, f in named.items()}


@pytest.fixture
def api(people) -> APIClient:
    client = APIClient()
    client.force_authenticate(people["vera"])
    return client


def api_ids(api: APIClient, query: str) -> set[int]:
    answer = api.get(f"/api/v1/findings/?page_size=100&{query}")
    assert answer.status_code == 200, answer.content
    return {row["id"] for row in answer.json()["results"]}


def page_ids(client, query: str) -> set[int]:
    answer = client.get(f"/findings/?status=&{query}")
    assert answer.status_code == 200
    return {row.pk for row in answer.context["page"].rows}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("overdue=true", {"late"}),
        ("overdue=false", {"soon", "later", "none", "fixed"}),
        ("due_before={in_5_days}", {"late", "soon", "fixed"}),
        ("due_before={in_5_days}&overdue=false", {"soon", "fixed"}),
        ("due_before={today}&status=active", {"late"}),
        ("", {"late", "soon", "later", "none", "fixed"}),
    ],
)
def test_page_and_api_select_the_same_findings(findings, api, client, people, query, expected):
    today = timezone.localdate()
    query = query.format(today=today, in_5_days=today + timedelta(days=5))
    client.force_login(people["vera"])
    wanted = {findings[name].pk for name in expected}

    assert api_ids(api, query) == wanted
    assert page_ids(client, query) == wanted


def test_api_bad_values_are_400(findings, api):
    assert api.get("/api/v1/findings/?overdue=maybe").status_code == 400
    assert api.get("/api/v1/findings/?due_before=31-01-2026").status_code == 400


def test_any_day_is_answered(findings, api):
    assert api_ids(api, "due_before=1203-01-10") == set()
    with_deadline = {findings[n].pk for n in ("late", "soon", "later", "fixed")}
    assert api_ids(api, "due_before=9999-12-31") == with_deadline


def test_api_says_where_each_finding_stands(findings, api):
    rows = {r["id"]: r for r in api.get("/api/v1/findings/").json()["results"]}

    def got(name: str) -> tuple:
        row = rows[findings[name].pk]
        return row["sla_state"], row["days_left"], row["overdue_days"], row["closed_in_time"]

    assert got("late") == ("overdue", -4, 4, None)
    assert got("soon") == ("due_soon", 2, None, None)
    assert got("later") == ("on_track", 40, None, None)
    assert got("none") == ("none", None, None, None)
    assert got("fixed") == ("none", None, None, False)
    assert rows[findings["late"].pk]["due_at"].startswith(f"{findings['late'].due_at:%Y-%m-%d}")
    detail = api.get(f"/api/v1/findings/{findings['soon'].pk}/").json()
    assert (detail["sla_state"], detail["days_left"]) == ("due_soon", 2)


def test_findings_page_shows_days_left_overdue_and_fixed_late(findings, client, people):
    client.force_login(people["vera"])

    page = client.get("/findings/?status=").content.decode()

    assert "overdue by 4 days" in page
    assert "(2 days left)" in page and "(40 days left)" in page
    assert "fixed 4 days late" in page
    Finding.objects.filter(pk=findings["fixed"].pk).update(
        fixed_at=findings["fixed"].due_at - timedelta(hours=1)
    )
    assert "fixed in time" in client.get("/findings/?status=").content.decode()
