"""Every sort a list offers, both ways round, walks the whole list once in that order on
the page and in the API (keyset pagination stays correct for each); ``q`` finds the same
rows on both sides."""

from __future__ import annotations

import pytest

from findings.models import Delivery, Finding, Repository
from remediator.engine.models import RemediationAction

from .conftest import api_ids, page_ids

pytestmark = pytest.mark.django_db


def _expected(rows, key, reverse_key: bool) -> list[int]:
    """Ids in the order ``key`` (ties newest first, as the keyset's last key says)."""
    return [pk for _, pk in sorted(((key(r), r.pk) for r in rows), reverse=reverse_key)]


FINDING_SORTS = {
    # sort -> (value of the first key, whether the first key runs descending)
    "severity": lambda f: (f.severity_rank, f.pk),
    "newest": lambda f: (f.pk,),
}


@pytest.mark.parametrize("sort", ["severity", "-severity", "newest", "-newest"])
def test_findings_sorted_either_way_walk_every_row_once_in_order(
    stock, page_client, api_client, sort
):
    rows = list(Finding.objects.filter(status__in=("open", "in_remediation")))
    key = FINDING_SORTS[sort.lstrip("-")]
    expected = [f.pk for f in sorted(rows, key=key, reverse=not sort.startswith("-"))]
    query = f"status=active&sort={sort}"
    assert page_ids(page_client, f"/findings/?{query}") == expected
    assert api_ids(api_client, f"/api/v1/findings/?{query}", page_size=11) == expected


@pytest.mark.parametrize("sort", ["risk", "-risk", "epss", "-epss"])
def test_findings_by_risk_either_way_are_each_others_reverse(stock, page_client, api_client, sort):
    forward = page_ids(page_client, f"/findings/?status=active&sort={sort.lstrip('-')}")
    backward = api_ids(api_client, f"/api/v1/findings/?status=active&sort=-{sort.lstrip('-')}")
    assert len(forward) == len(set(forward)) == Finding.objects.open().count()
    assert backward == forward[::-1]
    if sort.lstrip("-") == "risk":
        assert forward[0] == stock.kev.pk  # KEV first


@pytest.mark.parametrize(
    ("path", "sort", "key"),
    [
        ("images", "name", lambda r: (r.name, r.pk)),
        ("images", "registry", lambda r: (r.registry, r.name, r.pk)),
        ("images", "newest", lambda r: (-r.pk,)),
        ("actions", "state", lambda a: (a.state, -a.pk)),
        ("actions", "kind", lambda a: (a.kind, -a.pk)),
        ("actions", "newest", lambda a: (-a.pk,)),
        ("deliveries", "status", lambda d: (d.status, -d.pk)),
        ("deliveries", "source", lambda d: (d.source, -d.pk)),
    ],
)
@pytest.mark.parametrize("reverse", [False, True])
def test_other_lists_sort_both_ways_on_page_and_api(
    stock, page_client, api_client, path, sort, key, reverse
):
    model = {"images": Repository, "actions": RemediationAction, "deliveries": Delivery}[path]
    expected = [r.pk for r in sorted(model.objects.all(), key=key, reverse=reverse)]
    query = f"sort={'-' if reverse else ''}{sort}"
    assert page_ids(page_client, f"/{path}/?{query}") == expected
    assert api_ids(api_client, f"/api/v1/{path}/?{query}", page_size=6) == expected


def test_an_unknown_sort_is_a_400_in_the_api_and_a_message_on_the_page(page_client, api_client):
    answer = api_client.get("/api/v1/actions/?sort=bogus")
    assert answer.status_code == 400
    assert "sort" in answer.json()["detail"] or "sort" in str(answer.json())
    page = page_client.get("/actions/?sort=bogus")
    assert page.status_code == 200
    assert page.context["page"].rows == []


def test_column_headers_link_to_their_order_and_show_the_direction(stock, page_client):
    html = page_client.get("/findings/?sort=severity").content.decode()
    assert 'aria-sort="descending"><a class="sort" href="?sort=-severity"' in html
    html = page_client.get("/findings/?sort=-severity").content.decode()
    assert 'aria-sort="ascending"><a class="sort" href="?sort=severity"' in html
    html = page_client.get("/images/?sort=name").content.decode()
    assert 'aria-sort="ascending"><a class="sort" href="?sort=-name"' in html


SEARCHES = [
    ("findings", "status=active&q=NEWTONSOFT"),
    ("findings", "status=active&q=team/api"),
    ("findings", "status=active&q=team/batch:night"),
    ("findings", "status=active&q=cve-2024"),
    ("images", "q=ghcr.io/team"),
    ("images", "q=batch:NIGHT"),
    ("actions", "q=team/web1"),
    ("deliveries", "q=team/api"),
]


@pytest.mark.parametrize(("path", "query"), SEARCHES)
def test_q_finds_the_same_rows_on_page_and_api(stock, page_client, api_client, path, query):
    page = page_ids(page_client, f"/{path}/?{query}")
    api = api_ids(api_client, f"/api/v1/{path}/?{query}", page_size=9)
    assert sorted(page) == sorted(api)
    assert page


def test_findings_q_matches_packages_images_and_ids_ignoring_case(stock, api_client):
    api = set(api_ids(api_client, "/api/v1/findings/?q=newtonsoft"))
    assert api == {f.pk for f in Finding.objects.filter(package="Newtonsoft.Json")}
    api = set(api_ids(api_client, "/api/v1/findings/?q=team/batch:nightly"))
    assert api == set(Finding.objects.filter(tag__name="nightly").values_list("pk", flat=True))
    one = stock.kev.vulnerability_id
    assert stock.kev.pk in api_ids(api_client, f"/api/v1/findings/?q={one.lower()}")
    assert api_ids(api_client, "/api/v1/findings/?q=no-such-thing-anywhere") == []


def test_q_too_long_is_a_400_naming_it(api_client):
    answer = api_client.get("/api/v1/findings/?q=" + "x" * 201)
    assert answer.status_code == 400
    assert "q" in str(answer.json())
