"""A list's page and its API list bind one FilterSet: the same query string gives the
same rows, in the same order where both sides order alike (the images page lists by
name, the API newest first: there the same set)."""

from __future__ import annotations

import pytest

from .conftest import api_ids, page_ids

pytestmark = pytest.mark.django_db

FINDINGS = [
    "status=active&sort=severity",
    "status=active&sort=newest",
    "status=active&severity=critical&sort=severity",
    "status=open,fixed&severity=high,critical&sort=severity",
    "status=fixed&sort=newest",
    "status=accepted,active&sort=newest",
    "status=active&package=OPENSSL&sort=newest",
    "status=active&package=newtonsoft.json&sort=severity",
    "status=active&fixable=false&sort=newest",
    "status=active&image=REGISTRY.TEST/TEAM/WEB&sort=severity",
    "status=active&image=team/api&sort=newest",
    "status=active&kev=true&sort=newest",
    "status=active&kev=false&severity=high&sort=newest",
    "status=active&epss_min=0.5&sort=newest",
    "status=active&min_age=30&sort=newest",
    "status=open&sort=risk",
    "status=open&sort=epss",
    "status=active&tag=NIGHTLY&sort=newest",
    "status=active&package_type=DEB&sort=newest",
]


@pytest.mark.parametrize("query", FINDINGS)
def test_findings_page_and_api_give_the_same_rows(stock, page_client, api_client, query):
    page = page_ids(page_client, f"/findings/?{query}")
    api = api_ids(api_client, f"/api/v1/findings/?{query}")
    assert page == api
    assert page  # every combination matches something here


def test_findings_of_one_vulnerability_typed_in_lower_case(stock, page_client, api_client):
    query = f"status=active&sort=newest&cve={stock.kev.vulnerability_id.lower()}"
    assert page_ids(page_client, f"/findings/?{query}") == [stock.kev.pk]
    assert api_ids(api_client, f"/api/v1/findings/?{query}") == [stock.kev.pk]


IMAGES = [
    "",
    "registry=GHCR.IO",
    "min_severity=high",
    "min_severity=critical&fixable=true",
    "fixable=false",
    "q=WE",
    "image=team/api",
]


@pytest.mark.parametrize("query", IMAGES)
def test_images_page_and_api_give_the_same_rows(stock, page_client, api_client, query):
    page = page_ids(page_client, f"/images/?{query}")
    api = api_ids(api_client, f"/api/v1/images/?{query}", page_size=1)
    assert sorted(page) == sorted(api)
    assert page


ACTIONS = [
    "",
    "tab=failed",
    "tab=in_flight",
    "state=failed,verified",
    "state=rejected&state=cancelled",
    "kind=rebuild&open=true",
    "open=false",
    "image=registry.test/team/web",
]


@pytest.mark.parametrize("query", ACTIONS)
def test_actions_page_and_api_give_the_same_rows(stock, page_client, api_client, query):
    page = page_ids(page_client, f"/actions/?{query}")
    api = api_ids(api_client, f"/api/v1/actions/?{query}", page_size=4)
    assert page == api
    assert page


DELIVERIES = [
    "",
    "status=rejected",
    "source=grype",
    "status=processed,rejected&source=trivy",
    "channel=cli",
]


@pytest.mark.parametrize("query", DELIVERIES)
def test_deliveries_page_and_api_give_the_same_rows(stock, page_client, api_client, query):
    page = page_ids(page_client, f"/deliveries/?{query}")
    api = api_ids(api_client, f"/api/v1/deliveries/?{query}", page_size=9)
    assert page == api
    assert page
