"""The worker computes the overview's figures; pages read them from the shared cache."""

from __future__ import annotations

import io

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from findings.models import Finding
from findings.selectors.overview import TREND_DAYS, cache_key, overview_refresh
from findings.tasks import overview_refresh_task
from remediator.celery import app
from remediator.engine.checklist.summary import setup_to_do
from remediator.intake.receive import delivery_process
from remediator.intake.store import delivery_store

from ..conftest import FIXTURES
from .factories import make_findings, make_tag

MAX_OVERVIEW_QUERIES = 12


def _page(client, path: str = "/") -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in queries.captured_queries]


def _critical(count: int) -> str:
    return f"Critical <strong>{count}</strong>"


@pytest.mark.django_db
def test_the_shared_cache_works_and_its_table_is_created_with_the_test_database():
    configured = django_settings.CACHES["default"]
    if configured["BACKEND"].endswith("DatabaseCache"):  # the default (no CACHE_URL)
        assert configured["LOCATION"] in connection.introspection.table_names()
    cache.set("probe", {"n": 1}, 30)
    assert cache.get("probe") == {"n": 1}


@pytest.mark.django_db
def test_after_a_refresh_the_page_reads_the_figures_without_scanning_findings(client_for, viewer):
    tag = make_tag("team/stored")
    make_findings(tag, 3, severities=["critical"])
    overview_refresh()
    setup_to_do()  # stored for a minute: the overview's setup banner reads it
    client = client_for(viewer)
    for path in ("/", "/?days=90"):
        body, queries = _page(client, path)
        assert _critical(3) in body and "team/stored" in body
        assert not [q for q in queries if "findings_finding" in q]
        assert len(queries) <= MAX_OVERVIEW_QUERIES, "\n".join(q[:160] for q in queries)


@pytest.mark.django_db
def test_the_page_queries_do_not_grow_with_findings_once_refreshed(client_for, viewer):
    client = client_for(viewer)
    make_findings(make_tag("team/small"), 2)
    overview_refresh()
    setup_to_do()
    small = {path: len(_page(client, path)[1]) for path in ("/", "/?days=90")}
    for i in range(20):
        make_findings(make_tag(f"team/big-{i}"), 10)
    overview_refresh()
    large = {path: len(_page(client, path)[1]) for path in ("/", "/?days=90")}
    assert large == small


@pytest.mark.django_db
def test_stored_figures_are_shown_until_the_next_refresh(client_for, viewer):
    tag = make_tag()
    make_findings(tag, 2, severities=["critical"])
    overview_refresh()
    client = client_for(viewer)
    make_findings(tag, 5, severities=["critical"])
    body, _ = _page(client)
    assert "Figures as of" in body and _critical(2) in body
    overview_refresh()
    assert _critical(7) in _page(client)[0]


@pytest.mark.django_db
def test_a_refresh_shows_a_newly_ingested_scan(client_for, viewer):
    client = client_for(viewer)
    overview_refresh()
    assert _critical(0) in _page(client)[0]
    body = (FIXTURES / "trivy" / "trivy_alpine-39.json").read_bytes()
    delivery, _ = delivery_store(
        source="trivy", body=body, image_hint="registry.test/team/alpine:3.9"
    )
    delivery_process(delivery=delivery)
    critical = Finding.objects.filter(severity="critical").count()
    assert critical > 0
    assert _critical(0) in _page(client)[0]  # the worker has not refreshed yet
    overview_refresh()
    page = _page(client)[0]
    assert _critical(critical) in page and "team/alpine" in page


@pytest.mark.django_db
def test_without_stored_figures_the_page_computes_and_stores_them(client_for, viewer):
    make_findings(make_tag(), 4, severities=["critical"])
    client = client_for(viewer)
    assert cache.get(cache_key(30)) is None
    body, first = _page(client)
    assert _critical(4) in body and [q for q in first if "findings_finding" in q]
    assert cache.get(cache_key(30)).figures.snapshots[0].counts["critical"] == 4
    _, second = _page(client)
    assert not [q for q in second if "findings_finding" in q]


@pytest.mark.django_db
def test_the_refresh_task_stores_every_trend_window():
    make_findings(make_tag(), 2, severities=["high"])
    overview_refresh_task.apply().get()
    for days in TREND_DAYS:
        stored = cache.get(cache_key(days))
        assert stored.figures.snapshots[0].counts["high"] == 2
        assert len(stored.figures.trend) == days


def test_beat_runs_the_refresh_task_every_refresh_interval():
    entries = [
        entry
        for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "findings.overview_refresh"
    ]
    assert len(entries) == 1
    assert entries[0]["schedule"] == django_settings.DASHBOARD_OVERVIEW_REFRESH_SECONDS
    assert "findings.overview_refresh" in app.tasks
    assert app.conf.beat_schedule == django_settings.CELERY_BEAT_SCHEDULE


@pytest.mark.django_db
def test_make_demo_leaves_fresh_overview_figures_for_its_data():
    call_command("demo", images=2, stdout=io.StringIO())
    stored = cache.get(cache_key(30))
    open_now = Finding.objects.open().exclude(status__in=("accepted", "false_positive"))
    assert stored.figures.snapshots[0].total == open_now.count()
