"""The Reports page, its CSV downloads, the overview's card and the API endpoint."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone

from findings.models import Finding, Image, Repository
from findings.selectors.overview import overview_refresh
from remediator.teams.models import Team
from tests.dashboard.conftest import make_user
from tests.dashboard.factories import make_findings, make_scan, make_tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    """shop: 3 criticals fixed after 2, 4 and 9 days (their digest ran 1 day longer);
    1 high open and overdue. unowned: 1 critical fixed after 30 days, never running."""
    team = Team.objects.create(slug="shop", name="Shop")
    shop = make_tag("shop/api")
    Repository.objects.filter(pk=shop.repository_id).update(owner=team)
    other = make_tag("misc/tool")
    now = timezone.now()
    for took in (2, 4, 9):
        (finding,) = make_findings(
            shop, 1, severities=["critical"], days_ago=40, fixed_days_ago=40 - took
        )
        Finding.objects.filter(pk=finding.pk).update(due_at=now - timedelta(days=40 - 5))
    make_scan(shop, days_ago=40)  # the vulnerable digest, scanned while they were open
    Image.objects.filter(pk=shop.image_id).update(running_last_seen=now - timedelta(days=30))
    make_findings(shop, 1, severities=["high"], days_ago=50)
    Finding.objects.filter(severity="high").update(due_at=now - timedelta(days=1))
    make_findings(other, 1, severities=["critical"], days_ago=60, fixed_days_ago=30)
    cache.clear()
    return team


def signed_in(client, group="Viewer"):
    user = get_user_model().objects.filter(username="reader").first()
    client.force_login(user or make_user("reader", group))
    return client


def test_the_reports_page_shows_both_ways_overdue_and_compliance(client, history):
    page = signed_in(client).get("/reports/")
    assert page.status_code == 200
    html = page.content.decode()
    report = page.context["report"]
    assert report.overall.fixed == 4
    assert report.overall.to_fix.median_days == pytest.approx(6.5)
    # every shop fix: the digest last ran 30 days ago, 10 days after first seen
    assert report.overall.to_not_running.count == 3
    assert report.overall.to_not_running.median_days == pytest.approx(10.0, abs=0.01)
    assert report.overall.never_running == 1
    assert report.overdue_total == 1
    assert report.compliance_total.with_due == 3 and report.compliance_total.in_time == 2
    assert 'data-table="mttr-severity"' in html and 'data-table="overdue"' in html
    assert "<svg" in html and '<script src="http' not in html
    assert 'href="/reports/"' in html and 'aria-current="page">Reports' in html


def test_the_team_filter_keeps_to_the_team_s_repositories(client, history):
    page = signed_in(client).get("/reports/?team=shop")
    report = page.context["report"]
    assert report.overall.fixed == 3 and [r.key for r in report.by_team] == ["shop"]
    assert signed_in(client).get("/reports/?team=unowned").context["report"].overall.fixed == 1


def test_a_bad_parameter_is_named_and_the_default_window_shown(client, history):
    page = signed_in(client).get("/reports/?since=yesterday&severity=dire")
    assert page.status_code == 200
    assert "since" in page.context["problem"] and "severity" in page.context["problem"]
    assert page.context["report"].overall.fixed == 4


@pytest.mark.parametrize(
    "table, header",
    [
        ("mttr-severity", "Severity"),
        ("mttr-team", "Team"),
        ("compliance", "Month"),
        ("overdue", "Team"),
        ("aging", "Age"),
    ],
)
def test_each_table_downloads_as_csv_with_the_page_s_filters(client, history, table, header):
    response = signed_in(client).get(f"/reports/{table}.csv?team=shop")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == header
    if table == "mttr-team":
        assert [row[0] for row in rows[1:]] == ["shop"]
        assert rows[1][1:4] == ["3", "4.0", "8.0"]
    if table == "overdue":
        assert rows[1:] == [["shop", "1", "1"]]


def test_a_csv_with_a_bad_parameter_is_a_400_and_an_unknown_table_a_404(client, history):
    assert signed_in(client).get("/reports/aging.csv?until=never").status_code == 400
    assert signed_in(client).get("/reports/nothing.csv").status_code == 404


def test_the_overview_card_links_to_the_reports(client, history):
    overview_refresh()
    html = signed_in(client).get("/").content.decode()
    assert 'data-card="remediation"' in html and 'href="/reports/"' in html
    assert 'data-figure="overdue">1<' in html
    assert 'data-figure="critical-to-fix">6.5 days<' in html
    assert 'data-figure="compliance">66.7%<' in html


def test_the_api_returns_every_figure_and_filters(client, history):
    signed_in(client)
    body = client.get("/api/v1/reports/remediation/").json()
    assert body["overall"]["fixed"] == 4
    assert body["overall"]["to_fix"]["median_days"] == pytest.approx(6.5)
    assert [row["key"] for row in body["by_severity"]] == ["critical"]
    assert {row["key"] for row in body["by_team"]} == {"shop", "unowned"}
    assert body["overdue"] == [{"team": "shop", "severity": "high", "count": 1}]
    assert len(body["compliance"]) == 12
    assert {row["bucket"] for row in body["aging"]} == {"30-90"}
    shop = client.get("/api/v1/reports/remediation/?team=shop&severity=critical").json()
    assert shop["overall"]["fixed"] == 3 and shop["overdue"] == []
    until = (timezone.now() - timedelta(days=35)).date().isoformat()
    early = client.get(f"/api/v1/reports/remediation/?until={until}").json()
    assert early["overall"]["fixed"] == 2


def test_the_api_refuses_a_bad_window(client, history):
    """Well-formed dates making no window: 422; a malformed or empty date: 400."""
    signed_in(client)
    response = client.get("/api/v1/reports/remediation/?since=2026-06-02&until=2026-06-01")
    assert response.status_code == 422
    assert response.json()["error"] == "invalid" and "since" in response.json()["detail"]
    for query in ("since=yesterday", "until="):
        response = client.get(f"/api/v1/reports/remediation/?{query}")
        assert response.status_code == 400, query
        assert response.json()["error"] == "invalid"


def test_the_endpoint_is_in_the_api_schema(client, history):
    signed_in(client)
    schema = client.get("/api/v1/schema/?format=json")
    if schema.status_code != 200:
        schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert "/api/v1/reports/remediation/" in schema.content.decode()


def test_prometheus_gauges_count_overdue_by_team_and_open_findings_by_age(client, settings):
    from prometheus_client.parser import text_string_to_metric_families

    team = Team.objects.create(slug="shop", name="Shop")
    shop, other = make_tag("shop/api"), make_tag("misc/tool")
    Repository.objects.filter(pk=shop.repository_id).update(owner=team)
    make_findings(shop, 2, severities=["critical"], days_ago=100)
    make_findings(shop, 1, severities=["high"], days_ago=10)
    make_findings(other, 1, severities=["critical"], days_ago=200)
    make_findings(other, 1, severities=["critical"], days_ago=200, fixed_days_ago=1)
    now = timezone.now()
    Finding.objects.filter(severity="critical").update(due_at=now - timedelta(days=2))
    settings.METRICS_TOKEN = "metrics-token-123"
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token-123").content.decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("remediator_findings_")
    }
    assert samples == {
        ("remediator_findings_overdue", (("severity", "critical"), ("team", "shop"))): 2,
        ("remediator_findings_overdue", (("severity", "critical"), ("team", "unowned"))): 1,
        ("remediator_findings_open_by_age", (("bucket", "0-30"), ("severity", "high"))): 1,
        ("remediator_findings_open_by_age", (("bucket", "90-180"), ("severity", "critical"))): 2,
        ("remediator_findings_open_by_age", (("bucket", "180+"), ("severity", "critical"))): 1,
    }


def test_any_iso_8601_moment_is_answered(client, history):
    """An offset past PostgreSQL's range (+18:15) and a year before 1900 are valid ISO 8601:
    the window is taken in UTC and within the years anything is dated."""
    signed_in(client)
    query = "until=0446-02-22T12%3A47%3A15%2B18%3A15&severity=unknown"

    response = client.get(f"/api/v1/reports/remediation/?{query}")

    assert response.status_code == 200
    assert response.json()["until"] == "1900-01-01T00:00:00Z"
