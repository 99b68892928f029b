"""Findings shown, filtered and ranked by EPSS and KEV: pages, API, riskiest images."""

from __future__ import annotations

from datetime import date

import pytest
from rest_framework.test import APIClient

from findings.models import ThreatIntel
from findings.selectors import images
from tests.dashboard.conftest import make_user
from tests.dashboard.factories import make_findings, make_tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def ranked():
    """A critical with a tiny EPSS, a medium with a high one, and a low in CISA's KEV."""
    crowded = make_tag("team/crowded")
    critical = make_findings(crowded, 3, severities=["critical"])
    medium = make_findings(crowded, 1, severities=["medium"])[0]
    lonely = make_tag("team/lonely")
    kev = make_findings(lonely, 1, severities=["low"])[0]
    ThreatIntel.objects.create(
        vulnerability_id=critical[0].vulnerability_id, epss_score=0.0004, epss_percentile=0.1
    )
    ThreatIntel.objects.create(
        vulnerability_id=medium.vulnerability_id, epss_score=0.6, epss_percentile=0.98
    )
    ThreatIntel.objects.create(
        vulnerability_id=kev.vulnerability_id,
        kev=True,
        kev_date_added=date(2021, 12, 10),
        kev_due_date=date(2021, 12, 24),
        epss_score=0.2,
        epss_percentile=0.95,
    )
    return {"critical": critical, "medium": medium, "kev": kev}


def _ids_on_page(html: str, findings) -> list[int]:
    return sorted((html.index(f'href="/findings/{f.pk}/"'), f.pk) for f in findings)


def test_a_kev_finding_ranked_first_on_the_findings_page(client, ranked):
    client.force_login(make_user("victor", "Viewer"))
    everything = [*ranked["critical"], ranked["medium"], ranked["kev"]]
    by_severity = client.get("/findings/").content.decode()
    assert _ids_on_page(by_severity, everything)[0][1] == ranked["critical"][-1].pk
    by_risk = client.get("/findings/?sort=risk").content.decode()
    order = [pk for _, pk in _ids_on_page(by_risk, everything)]
    assert order[:2] == [ranked["kev"].pk, ranked["medium"].pk]
    assert "KEV" in by_risk and "EPSS 60.0%" in by_risk


def test_risk_order_pages_stay_consistent_with_keyset_pagination(client, ranked):
    client.force_login(make_user("victor", "Viewer"))
    tag = make_tag("team/many")
    make_findings(tag, 120, severities=["high", "low"])
    seen, url = [], "/findings/?sort=risk"
    while url:
        response = client.get("/findings/" + url if url.startswith("?") else url)
        page = response.context["page"]
        seen += [f.pk for f in page.rows]
        url = page.next_url
    assert len(seen) == len(set(seen)) == 125
    assert seen[0] == ranked["kev"].pk


def test_the_kev_and_epss_filters_of_the_findings_page(client, ranked):
    client.force_login(make_user("victor", "Viewer"))
    kev_only = client.get("/findings/?kev=yes").context["page"].rows
    assert [f.pk for f in kev_only] == [ranked["kev"].pk]
    likely = client.get("/findings/?epss_min=0.5").context["page"].rows
    assert [f.pk for f in likely] == [ranked["medium"].pk]
    assert len(client.get("/findings/?kev=no").context["page"].rows) == 4


def test_the_finding_page_shows_kev_with_its_due_date_and_epss(client, ranked):
    client.force_login(make_user("victor", "Viewer"))
    html = client.get(f"/findings/{ranked['kev'].pk}/").content.decode()
    assert "Known Exploited Vulnerabilities catalogue since 2021-12-10" in html
    assert "due 2021-12-24" in html and "20.00%" in html


def _api():
    api = APIClient()
    api.force_authenticate(make_user("reader", "Viewer"))
    return api


def test_a_kev_finding_ranked_first_by_the_api(ranked):
    api = _api()
    body = api.get("/api/v1/findings/?ordering=risk&page_size=2").json()
    assert [f["id"] for f in body["results"]] == [ranked["kev"].pk, ranked["medium"].pk]
    assert body["results"][0]["exploit"]["kev"] is True
    assert body["results"][0]["exploit"]["kev_due_date"] == "2021-12-24"
    rest = api.get(body["next"]).json()["results"]
    assert ranked["critical"][0].pk in [f["id"] for f in rest]
    by_epss = api.get("/api/v1/findings/?ordering=epss").json()["results"]
    assert by_epss[0]["id"] == ranked["medium"].pk
    assert by_epss[0]["exploit"]["epss_score"] == 0.6


def test_the_api_filters_and_refuses_an_unknown_ordering(ranked):
    api = _api()
    kev = api.get("/api/v1/findings/?kev=true").json()["results"]
    assert [f["id"] for f in kev] == [ranked["kev"].pk]
    likely = api.get("/api/v1/findings/?epss_min=0.5").json()["results"]
    assert [f["id"] for f in likely] == [ranked["medium"].pk]
    assert api.get("/api/v1/findings/?epss_min=2").status_code == 400
    assert api.get("/api/v1/findings/?ordering=worst").status_code == 400
    plain = api.get(f"/api/v1/findings/{ranked['critical'][1].pk}/").json()
    assert plain["exploit"] is None


def test_a_kev_image_ranked_first_among_the_riskiest(ranked):
    ranked_images = images.riskiest_images()
    assert [r.repository.name for r in ranked_images] == ["team/lonely", "team/crowded"]
    lonely, crowded = ranked_images
    assert lonely.kev == 1 and lonely.score == round(1 * (1 + 9 * 0.2))
    # three criticals (one with EPSS 0.0004) and a medium with EPSS 0.6
    assert crowded.score == round(10 + 10 + 10 * (1 + 9 * 0.0004) + 2 * (1 + 9 * 0.6))
