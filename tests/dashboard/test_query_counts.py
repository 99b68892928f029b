"""Queries per page stay bounded: they do not grow with the rows shown."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from findings.selectors.overview import overview_refresh
from remediator.engine.audit import audit_record
from remediator.engine.checklist.summary import setup_to_do
from remediator.engine.models import ActionState
from remediator.engine.services.dry_run_store import policy_dry_run_refresh

from .factories import make_action, make_findings, make_scan, make_tag


def _grow(scale: int, user) -> None:
    for i in range(scale):
        tag = make_tag(f"team/app-{scale}-{i}")
        findings = make_findings(tag, 4)
        make_scan(tag)
        action = make_action(tag, findings=findings, requested_by=user)
        audit_record(kind="transition", action=action, to_state=ActionState.AWAITING_APPROVAL)
    overview_refresh()  # as beat does: the overview reads stored figures
    policy_dry_run_refresh()  # as beat does: the Policies page reads the stored dry run
    setup_to_do()  # stored for a minute: the overview's setup banner reads it


def _count(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(queries.captured_queries)


PATHS = [
    "/",
    "/?days=90",
    "/images/",
    "/findings/",
    "/deliveries/",
    "/actions/",
    "/approvals/",
    "/policies/",
    "/audit/",
]


@pytest.mark.django_db
def test_list_pages_do_not_issue_more_queries_when_rows_grow(client_for, viewer, second_approver):
    client = client_for(viewer)
    _grow(3, second_approver)
    small = {path: _count(client, path) for path in PATHS}
    _grow(25, second_approver)
    large = {path: _count(client, path) for path in PATHS}
    assert large == small


@pytest.mark.django_db
def test_detail_pages_do_not_issue_more_queries_when_rows_grow(client_for, viewer, second_approver):
    client = client_for(viewer)
    small_tag = make_tag("team/small")
    small_findings = make_findings(small_tag, 2)
    small_action = make_action(small_tag, findings=small_findings, requested_by=second_approver)
    big_tag = make_tag("team/big")
    big_findings = make_findings(big_tag, 60)
    for _ in range(5):
        make_scan(big_tag)
    big_action = make_action(big_tag, findings=big_findings, requested_by=second_approver)
    for _ in range(10):
        audit_record(kind="transition", action=big_action, message="x")
    assert _count(client, f"/images/{big_tag.repository_id}/") == _count(
        client, f"/images/{small_tag.repository_id}/"
    )
    assert _count(client, f"/actions/{big_action.pk}/") == _count(
        client, f"/actions/{small_action.pk}/"
    )
    assert _count(client, f"/findings/{big_findings[0].pk}/") == _count(
        client, f"/findings/{small_findings[0].pk}/"
    )


@pytest.mark.django_db
def test_overview_stays_within_a_fixed_query_budget(
    client_for, viewer, django_assert_max_num_queries
):
    _grow(5, viewer)
    client = client_for(viewer)
    with django_assert_max_num_queries(16):
        client.get("/?days=90")
