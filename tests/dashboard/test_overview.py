"""Overview figures (selectors) and the SVG charts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from findings.selectors import images, trends
from remediator.dashboard.charts import Bar, Series, bar_chart, line_chart
from remediator.dashboard.views.overview import duration_text

from .factories import make_findings, make_tag


@pytest.mark.django_db
def test_open_at_a_point_counts_by_first_seen_and_fixed_at():
    tag = make_tag()
    make_findings(tag, 2, severities=["critical"], days_ago=40)  # open all along
    make_findings(tag, 3, severities=["high"], days_ago=40, fixed_days_ago=10)  # fixed since
    make_findings(tag, 4, severities=["medium"], days_ago=3)  # new this week
    now = timezone.now()
    now_, week, month = trends.open_by_severity_at(
        points={"now": now, "week": now - timedelta(days=7), "month": now - timedelta(days=30)}
    )
    assert (now_.counts["critical"], now_.counts["high"], now_.counts["medium"]) == (2, 0, 4)
    assert (week.counts["critical"], week.counts["high"], week.counts["medium"]) == (2, 0, 0)
    assert (month.counts["critical"], month.counts["high"], month.counts["medium"]) == (2, 3, 0)
    assert month.total == 5


@pytest.mark.django_db
def test_trend_has_one_point_per_day_with_critical_and_high():
    tag = make_tag()
    make_findings(tag, 2, severities=["critical"], days_ago=20)
    make_findings(tag, 1, severities=["high"], days_ago=40, fixed_days_ago=5)
    trend = trends.open_trend(days=30)
    assert len(trend) == 30
    assert (trend[0].critical, trend[0].high) == (0, 1)
    assert (trend[-1].critical, trend[-1].high) == (2, 0)


@pytest.mark.django_db
def test_mean_time_to_remediate_over_the_window():
    tag = make_tag()
    make_findings(tag, 2, days_ago=10, fixed_days_ago=4)  # 6 days each
    make_findings(tag, 1, days_ago=100, fixed_days_ago=60)  # outside a 30-day window
    mttr = trends.mean_time_to_remediate(days=30)
    assert abs(mttr.total_seconds() - 6 * 86400) < 5
    assert trends.mean_time_to_remediate(days=1) is None
    assert duration_text(mttr).startswith("6d")


@pytest.mark.django_db
def test_riskiest_images_weights_open_severities():
    worse = make_tag("team/worse")
    make_findings(worse, 2, severities=["critical"])  # 20
    better = make_tag("team/better")
    make_findings(better, 5, severities=["medium"])  # 10
    make_findings(better, 9, severities=["critical"], fixed_days_ago=1)  # fixed: no weight
    ranked = images.riskiest_images()
    assert [(r.repository.name, r.score) for r in ranked] == [
        ("team/worse", 20),
        ("team/better", 10),
    ]


@pytest.mark.django_db
def test_fixable_share():
    tag = make_tag()
    make_findings(tag, 3, fixable=True)
    make_findings(tag, 1, fixable=False)
    assert trends.fixable_share().percent == 75


@pytest.mark.django_db
def test_overview_page_shows_charts_and_toggles_window(client_for, viewer):
    tag = make_tag()
    make_findings(tag, 4, severities=["critical", "high"])
    client = client_for(viewer)
    page = client.get("/").content.decode()
    assert "<svg" in page and "last 30 days" in page and "Data table" in page
    assert "last 90 days" in client.get("/?days=90").content.decode()
    assert "last 30 days" in client.get("/?days=7000").content.decode()


def test_line_chart_is_accessible_and_escapes_text():
    svg = line_chart(
        title="Open <b>critical</b>",
        labels=["a", "b", "c"],
        series=[Series("Critical & co", [1, 5, 3], "sev-critical")],
    )
    assert 'role="img"' in svg and "aria-labelledby" in svg and "<title id=" in svg
    assert "<b>" not in svg and "Open &lt;b&gt;critical&lt;/b&gt;" in svg
    assert "Critical &amp; co" in svg
    assert "<table" in svg and "<caption>" in svg


def test_bar_chart_with_no_data_says_so():
    svg = bar_chart(title="Actions", bars=[])
    assert "No data yet" in svg
    svg = bar_chart(title="Actions", bars=[Bar("Failed", 3, "bar st-failed")])
    assert ">3<" in svg and 'class="bar st-failed"' in svg
