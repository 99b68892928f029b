"""In Chromium: a phone's list page (folded filters, compact finding cards, a navigation
that shows it scrolls), a delivery's scans and Reprocess, the audit log's day range and
CSV, a single-spaced Dockerfile diff. Screenshots go to SCREENSHOTS_DIR (default
var/screenshots)."""

from __future__ import annotations

import csv
import io
import os
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.utils import timezone
from playwright.sync_api import Page, expect

from findings.models import Delivery, Scan
from remediator.engine.audit import audit_record
from remediator.engine.models import AuditEvent
from remediator.intake.receive import delivery_process
from remediator.intake.store import delivery_store

from .conftest import make_user
from .factories import make_findings, make_patchable_action, make_tag
from .test_browser import sign_in

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = {"width": 390, "height": 844}


def shot(page: Page, name: str) -> None:
    default = django_settings.BASE_DIR / "var" / "screenshots"
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or default)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None
    return found


def test_on_a_phone_filters_fold_cards_are_compact_and_the_navigation_shows_it_scrolls(
    page, live_server
):
    make_user("victor", "Viewer")
    tag = make_tag("shop/payments-api", tag="2024.11.3")
    make_findings(tag, 6, severities=["critical", "high"])
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "victor", "/findings/")

    filters = page.locator("details.filterbox")
    expect(filters).not_to_have_attribute("open", "")
    expect(page.get_by_label("Severity")).to_be_hidden()
    shot(page, "phone_findings")
    filters.locator("summary").click()
    expect(page.get_by_label("Severity")).to_be_visible()

    card = page.locator("table.stack tbody tr").first
    tops = {box(card.locator(f'td[data-label="{label}"]'))["y"] for label in ("Severity", "Status")}
    assert len(tops) == 1, "severity and status share the card's first line"
    assert box(card)["height"] < 160
    # The labels of the stacked table are gone where the value says what it is.
    assert card.locator('td[data-label="Severity"]').evaluate(
        "cell => getComputedStyle(cell, '::before').content"
    ) in ("none", "normal")

    nav = page.locator("nav.mainnav")
    strip = nav.locator("ul")
    assert strip.evaluate("ul => ul.scrollWidth > ul.clientWidth")
    strip.evaluate("ul => { ul.scrollLeft = 0; ul.dispatchEvent(new Event('scroll')); }")
    expect(nav).to_have_attribute("data-more", "right")
    assert nav.evaluate("n => getComputedStyle(n, '::after').display") == "flex"
    strip.evaluate(
        "ul => { ul.scrollLeft = ul.scrollWidth; ul.dispatchEvent(new Event('scroll')); }"
    )
    expect(nav).to_have_attribute("data-more", "left")
    assert nav.evaluate("n => getComputedStyle(n, '::after').display") == "none"

    page.goto(f"{live_server.url}/findings/?severity=critical")
    expect(page.locator("details.filterbox")).to_have_attribute("open", "")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/findings/")
    expect(page.get_by_label("Severity")).to_be_visible()
    expect(page.locator("nav.mainnav")).to_have_attribute("data-more", "")


def test_a_delivery_shows_its_scans_and_is_reprocessed_with_one_click(
    page, live_server, fixture_bytes
):
    admin = make_user("root", None)
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    for codename in ("view_delivery", "change_delivery", "view_repository", "view_finding"):
        admin.user_permissions.add(Permission.objects.get(codename=codename))
    delivery, _ = delivery_store(
        source="trivy", body=fixture_bytes("trivy/trivy_alpine-39.json"), image_hint=""
    )
    delivery_process(delivery=delivery)
    sign_in(page, live_server, "root", f"/deliveries/{delivery.pk}/")

    scans = page.locator("#h-scans + .table-scroll table")
    expect(scans).to_contain_text("findings")
    shot(page, "delivery_detail_scans_reprocess")
    scans.get_by_role("link", name="findings").first.click()
    scan = Scan.objects.get(delivery=delivery)
    expect(page).to_have_url(f"{live_server.url}/findings/?scan={scan.pk}&status=")
    expect(page.locator("table.stack tbody tr")).to_have_count(6)
    page.go_back()

    page.get_by_role("button", name="Reprocess").click()
    expect(page.locator(".msg-success")).to_contain_text(f"Delivery #{delivery.pk} queued")
    expect(page.get_by_role("button", name="Reprocess")).to_be_disabled()
    assert Delivery.objects.get(pk=delivery.pk).status == "queued"
    assert AuditEvent.objects.filter(object_type="delivery", to_state="queued").count() == 1


def test_the_audit_log_by_day_range_and_its_csv(page, live_server):
    make_user("victor", "Viewer")
    for day, message in ((1, "=cmd|' /C calc'!A0"), (2, "policy changed"), (5, "later")):
        event = audit_record(kind="config", message=message, actor_label="alice")
        moment = timezone.make_aware(datetime(2026, 5, day, 12))
        AuditEvent.objects.filter(pk=event.pk).update(created_at=moment)
    sign_in(page, live_server, "victor", "/audit/")

    page.get_by_label("From (day)").fill("2026-05-01")
    page.get_by_label("To (day, included)").fill("2026-05-02")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(
        f"{live_server.url}/audit/?actor=&object=&kind=&since=2026-05-01&until=2026-05-02"
    )
    expect(page.locator("table.stack tbody tr")).to_have_count(2)
    shot(page, "audit_log_day_range")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    text = Path(download.value.path()).read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["message"] for row in rows] == ["policy changed", "'=cmd|' /C calc'!A0"]


def test_the_dockerfile_diff_is_single_spaced(page, live_server):
    make_user("victor", "Viewer")
    action = make_patchable_action()
    sign_in(page, live_server, "victor", f"/actions/{action.pk}/")

    lines = page.locator("pre.diff > span")
    assert lines.count() >= 4
    boxes = [box(lines.nth(i)) for i in range(lines.count())]
    gaps = [later["y"] - (earlier["y"] + earlier["height"]) for earlier, later in pairwise(boxes)]
    assert max(abs(gap) for gap in gaps) < 1, gaps
    line_height = page.locator("pre.diff").evaluate(
        "p => parseFloat(getComputedStyle(p).lineHeight)"
    )
    assert max(b["height"] for b in boxes) < 1.5 * line_height
    page.locator("#h-patch").scroll_into_view_if_needed()
    shot(page, "action_dockerfile_diff")
