"""Earlier names stay accepted: the API's ``vulnerability`` and ``ordering`` (now ``cve``
and ``sort``, the page's names) and the findings page's ``yes``/``no`` (now ``true``/
``false``, the API's), on the page and in the API alike, with the same rows as the name
or value that replaced them."""

from __future__ import annotations

import pytest

from .conftest import api_ids, page_ids

pytestmark = pytest.mark.django_db

RENAMED = [
    ("vulnerability={kev}", "cve={kev}"),
    ("vulnerability={kev_lower}", "cve={kev_lower}"),
    ("ordering=risk", "sort=risk"),
    ("ordering=epss", "sort=epss"),
    ("ordering=newest", "sort=newest"),
    ("kev=yes", "kev=true"),
    ("fixable=no", "fixable=false"),
]


def _query(template: str, stock) -> str:
    kev = stock.kev.vulnerability_id
    return "status=active&" + template.format(kev=kev, kev_lower=kev.lower())


@pytest.mark.parametrize("earlier, name", RENAMED)
def test_the_api_answers_an_earlier_name_as_its_new_one(stock, api_client, earlier, name):
    before = api_ids(api_client, f"/api/v1/findings/?{_query(earlier, stock)}")
    after = api_ids(api_client, f"/api/v1/findings/?{_query(name, stock)}")
    assert before == after
    everything = api_ids(api_client, "/api/v1/findings/?status=active")
    assert after and (after != everything or "sort=" in name)


@pytest.mark.parametrize("earlier, name", RENAMED)
def test_the_page_answers_an_earlier_name_as_its_new_one(stock, page_client, earlier, name):
    before = page_ids(page_client, f"/findings/?{_query(earlier, stock)}")
    after = page_ids(page_client, f"/findings/?{_query(name, stock)}")
    assert before == after
    assert after and (after != page_ids(page_client, "/findings/") or "sort=" in name)


def test_an_earlier_name_shows_in_the_pages_form_under_its_new_name(stock, page_client):
    page = page_client.get(f"/findings/?vulnerability={stock.kev.vulnerability_id}&kev=yes")
    html = page.content.decode()
    assert f'name="cve" value="{stock.kev.vulnerability_id}"' in html
    assert '<option value="true" selected>Yes</option>' in html
    assert [f.pk for f in page.context["page"].rows] == [stock.kev.pk]


def test_an_order_by_its_earlier_name_is_the_order_by_its_new_one(stock, api_client):
    risk = api_ids(api_client, "/api/v1/findings/?ordering=risk")
    assert risk[:2] == [stock.kev.pk, stock.likely.pk]
    newest = api_ids(api_client, "/api/v1/findings/?sort=newest&ordering=risk")
    assert newest == sorted(risk, reverse=True)  # both given: the new name wins


def test_both_names_of_a_filter_given_narrow_twice(stock, api_client):
    kev, other = stock.kev.vulnerability_id, stock.likely.vulnerability_id
    assert api_ids(api_client, f"/api/v1/findings/?cve={kev}&vulnerability={kev}") == [stock.kev.pk]
    assert api_ids(api_client, f"/api/v1/findings/?cve={kev}&vulnerability={other}") == []


def test_the_schema_documents_both_names_alike(api_client):
    schema = api_client.get("/api/v1/schema/?format=json").json()
    parameters = {
        p["name"]: p["schema"] for p in schema["paths"]["/api/v1/findings/"]["get"]["parameters"]
    }
    assert parameters["cve"] == parameters["vulnerability"]
    assert parameters["cve"]["maxLength"] == 100
    assert parameters["sort"] == parameters["ordering"]
    orders = {"severity", "newest", "risk", "epss"}
    assert set(parameters["sort"]["enum"]) == orders | {f"-{o}" for o in orders}
    assert "active" in parameters["status"]["items"]["enum"]
    assert parameters["min_age"] == {"type": "integer", "minimum": 0, "maximum": 36500}
