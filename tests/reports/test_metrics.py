"""Remediation figures: time to verified fix and to no longer running, compliance by
month, overdue counts, aging buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from findings.models import Finding, Repository
from findings.remediation import FixedRow, age_bucket, mttr_rows, percentile
from findings.selectors.remediation import (
    _mttr_in_python,
    aging_counts,
    compliance_by_month,
    findings_scoped,
    fixed_between,
    mttr,
    overdue_counts,
    remediation_report,
)
from remediator.teams.models import Team

from .history import API, CART, CRIT, HIGH, T0, build_history, day, scan, sighted

WINDOW = {"since": day(-1), "until": day(40), "now": day(40)}


def test_percentile_interpolates_between_the_closest_ranks_as_percentile_cont():
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([4.0, 10.0], 0.5) == 7.0
    assert percentile([4.0, 10.0], 0.9) == pytest.approx(9.4)
    assert percentile([1, 2, 3, 4, 100], 0.5) == 3  # the median ignores the outlier
    assert percentile(list(range(11)), 0.9) == pytest.approx(9.0)


def test_age_buckets_meet_at_their_bounds():
    assert [age_bucket(timedelta(days=d)) for d in (0, 29.9, 30, 89, 90, 180, 999)] == [
        "0-30", "0-30", "30-90", "30-90", "90-180", "180+", "180+"
    ]  # fmt: skip


def test_a_finding_still_running_or_never_running_is_kept_out_of_the_running_measure():
    rows = [
        FixedRow("x", T0, T0 + timedelta(days=2), T0 + timedelta(days=5), False),
        FixedRow("x", T0, T0 + timedelta(days=4), None, False),
        FixedRow("x", T0, T0 + timedelta(days=6), T0 + timedelta(days=9), True),
    ]
    (row,) = mttr_rows(rows)
    assert (row.fixed, row.to_fix.median_days, row.to_fix.count) == (3, 4.0, 3)
    assert (row.to_not_running.count, row.to_not_running.median_days) == (1, 5.0)
    assert (row.still_running, row.never_running) == (1, 1)


@pytest.mark.django_db
def test_mttr_is_measured_to_the_verified_fix_and_to_the_last_sighting_of_a_vulnerable_digest():
    build_history()
    report = remediation_report(**WINDOW)
    by = {row.key: row for row in report.by_severity}
    assert list(by) == ["critical", "high", "medium"]
    # api's critical: fixed by the scan of digest 3 on day 10; digest 2 ran until day 12.
    # cart's critical: fixed on day 4, but a legacy workload still runs digest 11.
    critical = by["critical"]
    assert critical.fixed == 2
    assert critical.to_fix.median_days == pytest.approx(7.0)
    assert critical.to_fix.p90_days == pytest.approx(9.4)
    assert critical.to_not_running.count == 1
    assert critical.to_not_running.median_days == pytest.approx(12.0)
    assert (critical.still_running, critical.never_running) == (1, 0)
    high = by["high"]
    assert (high.to_fix.median_days, high.to_not_running.median_days) == (
        pytest.approx(10.0),
        pytest.approx(12.0),
    )
    medium = by["medium"]  # tools: never seen running
    assert (medium.to_fix.median_days, medium.to_not_running.count, medium.never_running) == (
        pytest.approx(20.0),
        0,
        1,
    )
    assert report.overall.fixed == 4 and report.overall.still_running == 1


@pytest.mark.django_db
def test_a_digest_seen_only_before_the_finding_appeared_is_not_one_of_its_vulnerable_digests():
    scan(API, 1, day(0))
    scan(API, 2, day(3), CRIT)
    scan(API, 3, day(8))

    sighted(API, 1, day(20), workload="old")  # digest 1 never had the finding
    sighted(API, 2, day(9))
    sighted(API, 3, day(10))  # the same workload moved on to the fixed digest
    (row,) = remediation_report(**WINDOW).by_severity
    assert row.to_not_running.median_days == pytest.approx(6.0)
    assert row.still_running == 0


@pytest.mark.django_db
def test_teams_own_through_the_repository_and_the_rest_is_unowned():
    build_history()
    team = Team.objects.create(slug="shop", name="Shop")
    Repository.objects.filter(name__in=["acme/api", "acme/cart"]).update(owner=team)
    report = remediation_report(**WINDOW)
    assert [(row.key, row.fixed) for row in report.by_team] == [("shop", 3), ("unowned", 1)]
    shop = remediation_report(team="shop", **WINDOW)
    assert shop.overall.fixed == 3 and [r.key for r in shop.by_team] == ["shop"]
    assert remediation_report(team="unowned", **WINDOW).overall.fixed == 1
    assert remediation_report(team="shop", severity="high", **WINDOW).overall.fixed == 1
    assert remediation_report(team="nobody", **WINDOW).overall.fixed == 0


@pytest.mark.django_db
def test_the_window_counts_findings_fixed_in_it():
    build_history()
    assert remediation_report(since=day(5), until=day(15), now=day(40)).overall.fixed == 2
    assert remediation_report(since=day(15), until=day(25), now=day(40)).overall.fixed == 1


@pytest.mark.django_db
def test_sla_compliance_per_month_counts_fixes_with_a_due_date_by_their_month():
    build_history()
    findings = {f"{f.repository.name}:{f.vulnerability_id}": f for f in Finding.objects.all()}
    Finding.objects.filter(pk=findings["acme/api:CVE-2024-0001"].pk).update(due_at=day(30))
    Finding.objects.filter(pk=findings["acme/api:CVE-2024-0002"].pk).update(due_at=day(7))
    Finding.objects.filter(pk=findings["acme/cart:CVE-2024-0001"].pk).update(due_at=day(3))
    # tools' finding has no due date: not counted
    months = compliance_by_month(findings_scoped(), now=datetime(2026, 7, 15, tzinfo=UTC))
    assert [m.month for m in months][-3:] == ["2026-05", "2026-06", "2026-07"]
    june = months[-2]
    assert (june.with_due, june.in_time, june.percent) == (3, 1, 33.3)
    assert months[-1].with_due == 0 and months[-1].percent is None
    assert len(months) == 12


@pytest.mark.django_db
def test_overdue_counts_and_aging_buckets_count_open_findings_only():
    scan(API, 1, day(0), CRIT)
    scan(CART, 11, day(0), CRIT)
    scan(CART, 12, day(70), CRIT, HIGH)
    team = Team.objects.create(slug="shop", name="Shop")
    Repository.objects.filter(name="acme/cart").update(owner=team)
    Finding.objects.update(due_at=day(30))
    Finding.objects.filter(vulnerability_id="CVE-2024-0002").update(due_at=day(200))
    now = day(100)
    overdue = overdue_counts(findings_scoped(), now=now)
    assert [(c.key, c.severity, c.count) for c in overdue] == [
        ("shop", "critical", 1),
        ("unowned", "critical", 1),
    ]
    aging = aging_counts(findings_scoped(), now=now)
    assert [(c.key, c.severity, c.count) for c in aging] == [
        ("30-90", "high", 1),
        ("90-180", "critical", 2),
    ]
    Finding.objects.filter(repository__name="acme/api").update(status="fixed")
    assert sum(c.count for c in overdue_counts(findings_scoped(), now=now)) == 1


@pytest.mark.django_db
def test_the_database_s_percentiles_equal_the_python_ones():
    """On PostgreSQL (CI) ``mttr`` is one statement with percentile_cont; it must give
    what the Python interpolation gives. On SQLite ``mttr`` is that interpolation."""
    build_history()
    Repository.objects.filter(name="acme/api").update(
        owner=Team.objects.create(slug="shop", name="Shop")
    )
    fixed = fixed_between(findings_scoped(), day(-1), day(40))
    in_database, in_python = mttr(fixed), _mttr_in_python(fixed)
    assert in_database == in_python
    assert [len(in_database[by]) for by in ("all", "severity", "team")] == [1, 3, 2]
