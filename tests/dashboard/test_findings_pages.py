"""Findings list: filters, keyset pagination, CSV export, detail."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from findings.models import Finding

from .factories import make_findings, make_tag


def _ids(page: str) -> list[int]:
    return [int(x) for x in re.findall(r'href="/findings/(\d+)/"', page)]


def _next(page: str) -> str | None:
    match = re.search(r'href="(\?[^"]*after=[^"]+)" rel="next"', page)
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.mark.django_db
def test_keyset_pages_walk_every_row_once_worst_first(client_for, viewer):
    tag = make_tag()
    make_findings(tag, 120)
    client = client_for(viewer)
    seen: list[int] = []
    url = "/findings/"
    while url:
        page = client.get(url if url.startswith("/") else "/findings/" + url).content.decode()
        seen += _ids(page)
        url = _next(page)
    expected = list(Finding.objects.order_by("-severity_rank", "-id").values_list("id", flat=True))
    assert seen == expected


@pytest.mark.django_db
def test_list_queries_use_no_offset_and_count_only_up_to_a_bound(client_for, viewer):
    tag = make_tag()
    make_findings(tag, 60)
    client = client_for(viewer)
    first = client.get("/findings/").content.decode()
    with CaptureQueriesContext(connection) as queries:
        client.get("/findings/" + _next(first))
    statements = [q["sql"].upper() for q in queries.captured_queries]
    assert not [s for s in statements if "OFFSET" in s]
    counts = [s for s in statements if "COUNT(" in s and 'FROM "FINDINGS_FINDING"' in s]
    assert counts  # the list says how many rows it has
    assert all("LIMIT 10001" in s for s in counts)  # counted up to a bound, never all


@pytest.mark.django_db
def test_filters_narrow_the_list(client_for, viewer):
    web = make_tag("team/web")
    api = make_tag("team/api")
    crit = make_findings(web, 2, severities=["critical"], package="openssl")
    low = make_findings(api, 3, severities=["low"], package="zlib", fixable=False)
    old = make_findings(api, 1, severities=["high"], package="bash", days_ago=90)
    client = client_for(viewer)
    assert sorted(_ids(client.get("/findings/?severity=critical").content.decode())) == sorted(
        f.pk for f in crit
    )
    assert len(_ids(client.get("/findings/?package=zlib").content.decode())) == 3
    assert len(_ids(client.get("/findings/?fixable=no").content.decode())) == 3
    assert len(_ids(client.get("/findings/?image=registry.test/team/web").content.decode())) == 2
    assert _ids(client.get(f"/findings/?cve={low[0].vulnerability_id}").content.decode()) == [
        low[0].pk
    ]
    assert _ids(client.get("/findings/?min_age=30").content.decode()) == [old[0].pk]


@pytest.mark.django_db
def test_status_filter_defaults_to_open_and_can_show_fixed(client_for, viewer):
    tag = make_tag()
    make_findings(tag, 2)
    fixed = make_findings(tag, 1, fixed_days_ago=1)
    client = client_for(viewer)
    assert fixed[0].pk not in _ids(client.get("/findings/").content.decode())
    assert _ids(client.get("/findings/?status=fixed").content.decode()) == [fixed[0].pk]


@pytest.mark.django_db
def test_csv_export_streams_every_row_of_the_filter(client_for, viewer):
    tag = make_tag("team/web")
    make_findings(tag, 130, severities=["high"], package="openssl")
    make_findings(tag, 5, severities=["low"], package="zlib")
    response = client_for(viewer).get("/findings/export.csv?severity=high&after=garbage")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert re.match(
        r'attachment; filename="findings-\d{8}-\d{6}\.csv"', response["Content-Disposition"]
    )
    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 130
    assert {r["severity"] for r in rows} == {"high"}
    assert rows[0]["repository"] == "team/web" and rows[0]["package"] == "openssl"


@pytest.mark.django_db
def test_csv_export_defuses_cells_a_spreadsheet_would_run_as_formulas(client_for, viewer):
    make_findings(make_tag(), 1, package='=HYPERLINK("http://evil.example","x")')
    response = client_for(viewer).get("/findings/export.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["package"] == '\'=HYPERLINK("http://evil.example","x")'


@pytest.mark.django_db
def test_finding_detail_shows_history(client_for, viewer):
    tag = make_tag()
    finding = make_findings(tag, 1)[0]
    Finding.objects.filter(pk=finding.pk).update(reopened_count=2)
    page = client_for(viewer).get(f"/findings/{finding.pk}/").content.decode()
    assert finding.vulnerability_id in page
    assert "First seen" in page and f"scan #{finding.first_scan_id}" in page
    assert "Reopened" in page and "2 times" in page


@pytest.mark.django_db
def test_bad_cursor_falls_back_to_the_first_page(client_for, viewer):
    tag = make_tag()
    make_findings(tag, 3)
    response = client_for(viewer).get("/findings/?after=%%%not-base64")
    assert response.status_code == 200 and len(_ids(response.content.decode())) == 3
