"""The policy dry run: same answers as the pure policy, run by the worker, read by the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from findings.models import Finding
from remediator.engine.config_as_code.apply import config_apply
from remediator.engine.config_as_code.load import config_load
from remediator.engine.models import Policy
from remediator.engine.rules.remediation import decide
from remediator.engine.services import policy_dry_run
from remediator.engine.services.dry_run_store import (
    CACHE_KEY,
    QUEUED_KEY,
    policy_dry_run_read,
    policy_dry_run_refresh,
)
from remediator.engine.services.finding_facts import facts_iter
from remediator.engine.services.policy_rules import policies_enabled, rule_from_policy
from remediator.engine.tasks import policy_dry_run_refresh_task

from .factories import ingest, vuln


@pytest.fixture(autouse=True)
def _empty_cache(db):
    cache.clear()
    yield
    cache.clear()


def _findings() -> None:
    ingest(vuln(), vuln("CVE-2", "zlib", severity="high"), tag="1.4")
    ingest(vuln("CVE-3", "glibc", fixed=""), vuln("CVE-4", "musl", severity="low"), tag="1.5")
    ingest(vuln("CVE-5", "musl", severity="medium"), image="docker.io/library/alpine", tag="3")


def _viewer(people) -> Client:
    client = Client()
    client.force_login(people["vera"])
    return client


def test_dry_run_agrees_with_the_pure_policy_for_every_kind_of_condition(defaults):
    _findings()
    Finding.objects.filter(package="zlib").update(
        first_seen=timezone.now() - timedelta(days=40), fixable_since=timezone.now()
    )
    Finding.objects.filter(package="musl").update(vendor_status="will_not_fix")
    Policy.objects.all().delete()
    rules = [
        dict(name="old-zlib", min_age_days=30, package_glob="z*", action="rebuild"),
        dict(name="grace", fix_grace_days=5, fix_available=True, action="rebuild"),
        dict(name="alpine", image_glob="alpine", include_wont_fix=True, action="notify"),
        dict(name="ids", vulnerability_ids=["cve-3"], min_severity="high", action="notify"),
        dict(name="rest", min_severity="high", action="mark_risky"),
    ]
    for order, rule in enumerate(rules):
        Policy.objects.create(order=order, **rule)
    now = timezone.now()
    rules = [rule_from_policy(p) for p in policies_enabled()]
    expected: dict[int | None, int] = {}
    for facts in facts_iter(Finding.objects.open(), rules=rules):
        decisions = decide([facts], rules, now=now)
        key = decisions[0].rule_id if decisions else None
        expected[key] = expected.get(key, 0) + 1

    results = policy_dry_run()

    assert {r.rule_id: r.findings for r in results if r.findings} == expected
    assert len(expected) >= 4  # the conditions split the findings over several rules


def test_page_shows_the_stored_dry_run_without_reading_the_findings(defaults, people):
    _findings()
    stored = policy_dry_run_refresh()
    ingest(vuln("CVE-9", "curl"), tag="2.0")  # not in the stored result
    client = _viewer(people)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/policies/").content.decode()
    assert stored.results[0].findings == 2
    assert "<strong>rebuild-fixable-critical-high</strong>" in page
    assert '<td data-label="Findings" class="num">2</td>' in page
    assert "As of" in page and "The policies changed since" not in page
    assert not [q for q in queries.captured_queries if "findings_finding" in q["sql"]]
    assert len(queries.captured_queries) < 12


def test_small_database_without_a_stored_dry_run_runs_it_inline_and_stores_it(defaults, people):
    _findings()
    page = _viewer(people).get("/policies/").content.decode()
    assert "what each rule would do" in page and "(no rule matched)" in page
    assert cache.get(CACHE_KEY).results[0].findings == 2


def test_large_database_without_a_stored_dry_run_says_none_yet(defaults, people, settings):
    settings.POLICY_DRY_RUN_INLINE_LIMIT = 3
    _findings()
    client = _viewer(people)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/policies/").content.decode()
    assert "No dry run yet" in page and "Run dry run now" in page
    assert cache.get(CACHE_KEY) is None
    scans = [q["sql"] for q in queries.captured_queries if "findings_finding" in q["sql"]]
    assert len(scans) == 1 and "LIMIT 3" in scans[0]


def test_run_now_button_queues_the_task_which_stores_a_fresh_result(
    defaults, people, settings, eager, django_capture_on_commit_callbacks
):
    settings.POLICY_DRY_RUN_INLINE_LIMIT = 0
    _findings()
    client = _viewer(people)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/policies/dry-run/", follow=True)
    assert len(callbacks) == 1
    assert response.redirect_chain == [("/policies/", 302)]
    page = response.content.decode()
    assert "Dry run queued; refresh in a few seconds." in page
    assert "No dry run yet" in page  # rendered before the commit that queues the task
    assert cache.get(CACHE_KEY).results[0].findings == 2
    assert cache.get(QUEUED_KEY) is None
    assert "what each rule would do" in client.get("/policies/").content.decode()


def test_run_now_while_one_is_queued_does_not_queue_another(
    defaults, people, django_capture_on_commit_callbacks
):
    cache.set(QUEUED_KEY, timezone.now())
    client = _viewer(people)
    assert "A new dry run is queued" in client.get("/policies/").content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/policies/dry-run/", follow=True)
    assert callbacks == []
    assert "A dry run is already queued" in response.content.decode()


def test_run_now_needs_post_csrf_and_view_permission(defaults, people):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["vera"])
    assert client.get("/policies/dry-run/").status_code == 405
    assert client.post("/policies/dry-run/").status_code == 403  # no CSRF token
    nobody = Client()
    nobody.force_login(people["nora"])
    assert nobody.post("/policies/dry-run/").status_code == 403
    assert Client().post("/policies/dry-run/").status_code == 302  # to the login page
    assert cache.get(QUEUED_KEY) is None


def test_page_says_when_the_policies_changed_since_the_stored_run(defaults, people):
    policy_dry_run_refresh()
    policy = defaults[0]
    policy.min_severity = "critical"
    policy.save()
    assert policy_dry_run_read().stale
    assert "The policies changed since" in _viewer(people).get("/policies/").content.decode()


def test_applying_config_that_changes_policies_refreshes_the_dry_run(
    defaults, eager, django_capture_on_commit_callbacks, tmp_path
):
    _findings()
    text = "policies:\n  - name: notify-everything\n    action: notify\n"
    with django_capture_on_commit_callbacks(execute=True):
        config_apply(config=config_load(text, base_dir=tmp_path), prune=True)
    state = policy_dry_run_read()
    assert not state.stale
    assert [(r.rule_name, r.findings) for r in state.stored.results] == [
        ("notify-everything", 5),
        ("(no rule matched)", 0),
    ]


def test_admin_policy_edit_refreshes_the_dry_run(
    defaults, admin_client, eager, django_capture_on_commit_callbacks
):
    _findings()
    policy_dry_run_refresh()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/remediator/policy/{defaults[0].pk}/delete/", {"post": "yes"}
        )
    assert response.status_code == 302
    state = policy_dry_run_read()
    assert not state.stale
    assert [r.rule_name for r in state.stored.results] == [
        "notify-unfixable-critical",
        "(no rule matched)",
    ]


def test_task_returns_the_seconds_it_took(defaults):
    assert policy_dry_run_refresh_task() >= 0
    assert cache.get(CACHE_KEY) is not None
