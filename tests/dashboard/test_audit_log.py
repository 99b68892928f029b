"""The audit log filtered by a range of days, and its CSV download (the same filters,
every matching event, cells a spreadsheet would run as formulas defused)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from remediator.engine.audit import audit_record
from remediator.engine.models import AuditEvent

pytestmark = pytest.mark.django_db


def event_on(day: datetime, message: str, **fields) -> AuditEvent:
    event = audit_record(kind="config", message=message, **fields)
    AuditEvent.objects.filter(pk=event.pk).update(created_at=day)
    return event


@pytest.fixture
def three_days():
    """Events at 00:00 and 23:59 of 1 May, one on 2 May, one on 3 May (site time zone)."""
    first = timezone.make_aware(datetime(2026, 5, 1))
    return [
        event_on(first, "may 1 start"),
        event_on(first + timedelta(hours=23, minutes=59), "may 1 end"),
        event_on(first + timedelta(days=1, hours=12), "may 2"),
        event_on(first + timedelta(days=2, hours=12), "may 3"),
    ]


def rows_of(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_page_offers_a_day_range(client_for, viewer):
    page = client_for(viewer).get("/audit/").content.decode()
    assert 'type="date" name="since"' in page and 'type="date" name="until"' in page
    assert 'href="/audit/export.csv?"' in page


def test_a_day_range_includes_both_whole_days(client_for, viewer, three_days):
    client = client_for(viewer)
    page = client.get("/audit/?since=2026-05-01&until=2026-05-01").content.decode()
    assert "may 1 start" in page and "may 1 end" in page and "may 2" not in page

    page = client.get("/audit/?since=2026-05-02").content.decode()
    assert "may 2" in page and "may 3" in page and "may 1" not in page

    page = client.get("/audit/?until=2026-05-02").content.decode()
    assert "may 1 start" in page and "may 2" in page and "may 3" not in page


def test_a_date_that_is_not_one_is_named_on_the_page(client_for, viewer, three_days):
    page = client_for(viewer).get("/audit/?since=2026-13-45").content.decode()
    assert "Enter a valid date." in page and "may 1" not in page
    page = client_for(viewer).get("/audit/?until=9999-12-31").content.decode()
    assert "field-error" in page


def test_the_csv_has_every_event_the_filters_let_through(client_for, viewer, three_days):
    response = client_for(viewer).get("/audit/export.csv?since=2026-05-01&until=2026-05-02")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = rows_of(response)
    assert [row["message"] for row in rows] == ["may 2", "may 1 end", "may 1 start"]
    assert rows[0]["kind"] == "config" and rows[0]["created_at"].startswith("2026-05-02T")


def test_csv_cells_that_a_spreadsheet_would_run_are_defused(client_for, viewer):
    for text in ('=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "plain"):
        audit_record(kind="config", message=text, actor_label=text)

    rows = rows_of(client_for(viewer).get("/audit/export.csv"))

    messages = [row["message"] for row in rows]
    assert messages == ["plain", "'@SUM(A1)", "'-2", "'+1+1", '\'=HYPERLINK("http://x")']
    assert [row["actor"] for row in rows] == messages


def test_the_csv_refuses_a_bad_filter_naming_it(client_for, viewer):
    response = client_for(viewer).get("/audit/export.csv?since=yesterday")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid" and "since" in response.json()["detail"]


def test_a_viewer_without_the_audit_permission_gets_no_csv(client_for, nobody):
    assert client_for(nobody).get("/audit/export.csv").status_code == 403
