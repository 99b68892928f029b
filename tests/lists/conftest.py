"""A stocked store for the list tests: findings of several severities, statuses, packages,
ages and exploit data over three images in two registries; actions in several states;
deliveries from two sources, processed and rejected. Enough rows that every list runs to
more than one page (the dashboard's 50, the API's ``page_size``)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from findings.models import Delivery, Finding, ThreatIntel
from remediator.engine.models import ActionState
from tests.dashboard.conftest import make_user
from tests.dashboard.factories import make_action, make_findings, make_scan, make_tag


@dataclass
class Stock:
    web_critical: list[Finding]
    mixed_case: list[Finding]
    kev: Finding
    likely: Finding
    fixed: list[Finding]
    old: list[Finding]


@pytest.fixture
def stock(db) -> Stock:
    web = make_tag("team/web")
    api = make_tag("team/api", registry="ghcr.io")
    batch = make_tag("team/batch", tag="nightly")
    web_critical = make_findings(web, 30, severities=["critical", "high"], package="openssl")
    make_findings(web, 25, severities=["medium", "low"], package="zlib", fixable=False)
    mixed_case = make_findings(api, 12, severities=["high"], package="Newtonsoft.Json")
    fixed = make_findings(api, 8, severities=["critical"], package="openssl", fixed_days_ago=2)
    old = make_findings(batch, 9, severities=["low", "medium"], package="bash", days_ago=90)
    Finding.objects.filter(pk=old[0].pk).update(status=Finding.Status.ACCEPTED)
    kev, likely = mixed_case[0], web_critical[3]
    ThreatIntel.objects.create(vulnerability_id=kev.vulnerability_id, kev=True, epss_score=0.2)
    ThreatIntel.objects.create(vulnerability_id=likely.vulnerability_id, epss_score=0.7)
    for i, state in enumerate([*ActionState.values, *ActionState.values]):
        # at most one open action of a kind per tag: a tag each
        tag = make_tag(f"team/web{i}" if i % 2 else f"team/svc{i}")
        make_action(tag, state=state, findings=web_critical[i : i + 3])
    make_action(web, state=ActionState.FAILED)
    for i in range(60):
        scan = make_scan((web, api, batch)[i % 3])
        if i % 4 == 0:
            Delivery.objects.filter(pk=scan.delivery_id).update(
                status=Delivery.Status.REJECTED, source="grype", channel="cli"
            )
    return Stock(web_critical, mixed_case, kev, likely, fixed, old)


@pytest.fixture
def page_client(client, db):
    client.force_login(make_user("victor", "Viewer"))
    return client


@pytest.fixture
def api_client(db) -> APIClient:
    client = APIClient()
    client.force_authenticate(make_user("reader", "Viewer"))
    return client


def page_ids(client, path: str) -> list[int]:
    """Every row's id, following the page's "next" links to the end."""
    ids: list[int] = []
    base, _, query = path.partition("?")
    url = f"{base}?{query}"
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.context["page"]
        ids += [row.pk for row in page.rows]
        url = base + page.next_url if page.next_url else ""
    return ids


def api_ids(client, path: str, page_size: int = 7) -> list[int]:
    """Every result's id, following the API's ``next`` links to the end."""
    ids: list[int] = []
    separator = "&" if "?" in path else "?"
    url: str | None = f"{path}{separator}page_size={page_size}"
    while url:
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:300])
        body = response.json()
        ids += [row["id"] for row in body["results"]]
        url = body["next"]
    return ids
