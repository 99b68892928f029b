"""End to end in Debian's Chromium (pytest-playwright) against the live server.

One browser for the session (pytest-playwright's ``browser`` fixture); launch
arguments come from ``browser_type_launch_args`` in this folder's conftest.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from findings.models import Finding
from remediator.engine.models import ActionState, BuildTarget, RemediationAction

from .conftest import PASSWORD, make_user
from .factories import make_action, make_findings, make_scan, make_tag

pytestmark = pytest.mark.django_db(transaction=True)
TRIGGER = "/api/v4/projects/42/trigger/pipeline"


# Playwright's sync API keeps an event loop running in the main thread until the
# session ends; the ORM calls in these tests and pytest-django's database set-up and
# tear-down (at the very end of the session) are plain synchronous code. Set for the
# whole session whenever this module is collected: the app itself has no async code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def eager_celery():
    from remediator.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def sign_in(page: Page, live_server, username: str, path: str = "/") -> None:
    page.goto(f"{live_server.url}{path}")
    expect(page).to_have_url(f"{live_server.url}/login/?next={path}")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}{path}")


def shot(page: Page, name: str) -> None:
    folder = django_settings.BASE_DIR / "var" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.fixture
def gitlab(httpserver, monkeypatch, settings):
    settings.PROVIDER_RETRIES = 0
    settings.PROVIDER_RETRY_BACKOFF = 0.01
    monkeypatch.setenv("REMEDIATOR_SECRET_DASH_GITLAB", "trigger-token")
    httpserver.expect_request(TRIGGER, method="POST").respond_with_json(
        {
            "id": 4242,
            "status": "created",
            "ref": "main",
            "web_url": httpserver.url_for("/acme/images/-/pipelines/4242"),
        },
        status=201,
    )
    return BuildTarget.objects.create(
        name="dash-gitlab",
        provider="gitlab",
        url=httpserver.url_for("/"),
        project="42",
        ref="main",
        token_env="REMEDIATOR_SECRET_DASH_GITLAB",
        image_patterns=["*"],
    )


def _waiting_action(requested_by, build_target=None):
    tag = make_tag("team/payments")
    findings = make_findings(tag, 3, severities=["critical", "high"])
    make_scan(tag)
    return make_action(tag, requested_by=requested_by, findings=findings, build_target=build_target)


def _triggers(httpserver) -> int:
    return sum(1 for request, _ in httpserver.log if request.path == TRIGGER)


def test_approver_approves_and_the_ci_provider_is_triggered_once(
    page, live_server, httpserver, gitlab, eager_celery
):
    bob = make_user("bob", "Security approvers")
    make_user("alice", "Security approvers")
    action = _waiting_action(bob, gitlab)
    sign_in(page, live_server, "alice", "/approvals/")
    card = page.locator(f"#action-{action.pk}")
    expect(card).to_contain_text("team/payments")
    expect(card).to_contain_text("requested")
    token = card.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    card.get_by_role("button", name="Approve & rebuild").dblclick()
    expect(page.locator(".msg-success")).to_contain_text(f"Action #{action.pk} approved")
    # Without the page's JavaScript a second submit still reaches the server: refused there.
    again = page.request.post(
        f"{live_server.url}/actions/{action.pk}/approve/",
        form={"csrfmiddlewaretoken": token},
    )
    assert again.ok and "Not done" in again.text()
    action.refresh_from_db()
    assert action.state in (ActionState.DISPATCHED, ActionState.RUNNING)
    assert action.external_id == "4242"
    assert _triggers(httpserver) == 1
    form = httpserver.log[0][0].form
    assert form["token"] == "trigger-token" and form["ref"] == "main"
    page.goto(f"{live_server.url}/actions/{action.pk}/")
    expect(page.get_by_role("link", name="4242")).to_be_visible()
    shot(page, "action_detail")


def test_viewer_sees_disabled_buttons_and_gets_403_posting_anyway(page, live_server):
    bob = make_user("bob", "Security approvers")
    make_user("victor", "Viewer")
    action = _waiting_action(bob)
    sign_in(page, live_server, "victor", "/approvals/")
    approve = page.get_by_role("button", name="Approve & rebuild")
    expect(approve).to_be_disabled()
    expect(page.get_by_role("button", name="Reject")).to_be_disabled()
    expect(page.locator(f"#why-{action.pk}-approve")).to_have_text(
        "Only Security approvers can approve or reject."
    )
    token = page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    response = page.request.post(
        f"{live_server.url}/actions/{action.pk}/approve/",
        form={"csrfmiddlewaretoken": token},
    )
    assert response.status == 403
    action.refresh_from_db()
    assert action.state == ActionState.AWAITING_APPROVAL


def test_requester_cannot_approve_their_own_action(page, live_server):
    alice = make_user("alice", "Security approvers")
    action = _waiting_action(alice)
    sign_in(page, live_server, "alice", f"/actions/{action.pk}/")
    expect(page.get_by_role("button", name="Approve & rebuild")).to_be_disabled()
    expect(page.locator(f"#why-{action.pk}-approve")).to_contain_text("four eyes")
    shot(page, "approval_four_eyes")
    # Withdrawing your own request is allowed.
    page.get_by_role("button", name="Cancel action").click()
    expect(page.locator(".msg-success")).to_contain_text("cancelled")
    assert RemediationAction.objects.get(pk=action.pk).state == ActionState.CANCELLED


def test_filter_findings_and_download_the_csv(page, live_server):
    make_user("victor", "Viewer")
    tag = make_tag("team/web")
    critical = make_findings(tag, 4, severities=["critical"], package="openssl")
    make_findings(tag, 6, severities=["low"], package="zlib")
    sign_in(page, live_server, "victor", "/findings/")
    page.get_by_label("Severity").select_option("critical")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(
        f"{live_server.url}/findings/?severity=critical&status=active"
        "&fixable=&package=&cve=&image=&min_age=&kev=&epss_min=&q=&team=&sort=severity&due_before=&overdue="
    )
    expect(page.locator("table tbody tr")).to_have_count(4)
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename.startswith("findings-")
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(int(r["id"]) for r in rows) == sorted(f.pk for f in critical)
    assert {r["severity"] for r in rows} == {"critical"}


PAGES = [
    ("overview", "/"),
    ("overview_90", "/?days=90"),
    ("images", "/images/"),
    ("image_detail", "/images/{repository}/"),
    ("findings", "/findings/"),
    ("finding_detail", "/findings/{finding}/"),
    ("actions", "/actions/"),
    ("approvals", "/approvals/"),
    ("policies", "/policies/?dry_run=1"),
    ("deliveries", "/deliveries/"),
    ("delivery_detail", "/deliveries/{delivery}/"),
    ("audit", "/audit/"),
]


def test_every_page_renders_and_is_saved_as_a_screenshot(page, live_server):
    from django.core.management import call_command

    call_command("demo", images=8, stdout=io.StringIO())
    user = get_user_model().objects.get(username="alice")
    user.set_password(PASSWORD)
    user.save()
    finding = Finding.objects.order_by("-severity_rank", "-id").first()
    ids = {
        "repository": finding.repository_id,
        "finding": finding.pk,
        "delivery": finding.first_scan.delivery_id,
    }
    sign_in(page, live_server, "alice")
    for name, path in PAGES:
        response = page.goto(f"{live_server.url}{path.format(**ids)}")
        assert response.status == 200, path
        expect(page.locator("h1")).to_be_visible()
        shot(page, name)
    page.set_viewport_size({"width": 390, "height": 844})
    for name, path in [("phone_findings", "/findings/"), ("phone_approvals", "/approvals/")]:
        page.goto(f"{live_server.url}{path}")
        shot(page, name)
    page.goto(f"{live_server.url}/login/")
    shot(page, "login")


def test_pages_the_admin_and_the_api_docs_keep_to_the_content_security_policy(page, live_server):
    """Every page runs under the CSP header (no inline script or style anywhere), and the
    API docs (Swagger UI) still render the schema's operations."""
    from django.core.management import call_command

    call_command("demo", images=3, stdout=io.StringIO())
    user = get_user_model().objects.get(username="alice")
    user.is_staff = user.is_superuser = True
    user.set_password(PASSWORD)
    user.save()
    action = RemediationAction.objects.order_by("id").first()
    finding = Finding.objects.order_by("-severity_rank", "-id").first()
    ids = {
        "repository": finding.repository_id,
        "finding": finding.pk,
        "delivery": finding.first_scan.delivery_id,
    }
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    sign_in(page, live_server, "alice")
    paths = [path.format(**ids) for _, path in PAGES]
    paths += [f"/actions/{action.pk}/", "/admin/", "/admin/remediator/buildtarget/add/"]
    for path in paths:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "object-src 'none'" in policy, path
        page.wait_for_load_state("load")

    response = page.goto(f"{live_server.url}/api/v1/docs/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    expect(page.locator(".opblock").first).to_be_visible()  # the operations, from the schema
    assert page.locator(".opblock").count() > 20
    assert refused == []


def test_search_box_finds_a_package_and_an_image_and_links_to_them(page, live_server):
    make_user("victor", "Viewer")
    tag = make_tag("library/nginx", registry="docker.io", tag="1.25-alpine")
    findings = make_findings(tag, 2, package="libssl3")
    sign_in(page, live_server, "victor", "/findings/")
    box = page.get_by_role("searchbox", name="Search CVE, package, image or digest")
    box.fill("nginx:1.25")
    box.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/search/?q=nginx%3A1.25")
    images = page.locator("section[aria-labelledby=sg-images]")
    expect(images).to_contain_text("docker.io/library/nginx:1.25")
    page.get_by_role("searchbox", name="Search CVE, package, image or digest").fill(
        findings[0].vulnerability_id.lower()
    )
    page.keyboard.press("Enter")
    exact = page.locator("li.exact").first
    expect(exact).to_contain_text(findings[0].vulnerability_id)
    shot(page, "search_results")
    exact.get_by_role("link").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).to_contain_text("docker.io/library/nginx:1.25-alpine")


def test_bulk_accept_of_checked_findings_with_reason_and_end_date(page, live_server):
    make_user("alice", "Security approvers")
    tag = make_tag("library/nginx", registry="docker.io", tag="1.25-alpine")
    findings = make_findings(tag, 4, severities=["critical", "high"])
    sign_in(page, live_server, "alice", "/findings/")
    expect(page.locator("[data-list-count]")).to_have_text("4 findings")
    page.get_by_label(f"Check finding {findings[0].pk} ").check()
    page.get_by_label(f"Check finding {findings[2].pk} ").check()
    expect(page.locator("#bulk-count")).to_have_text("2 selected")
    page.get_by_label("Decision").select_option("accept")
    page.get_by_label("Reason").fill("compensating control: WAF rule 12")
    shot(page, "findings_bulk_bar")
    # The end date is required for an acceptance: the browser asks for it first.
    page.get_by_role("button", name="Apply to checked").click()
    assert Finding.objects.filter(status="accepted").count() == 0
    page.get_by_label("Accepted until").fill("2099-01-31")
    page.get_by_role("button", name="Apply to checked").click()
    expect(page.locator(".msg-success")).to_contain_text("Accept risk: 2 findings done.")
    accepted = set(Finding.objects.filter(status="accepted").values_list("pk", flat=True))
    assert accepted == {findings[0].pk, findings[2].pk}
    expect(page.locator("[data-list-count]")).to_have_text("2 findings")  # active ones left


def test_overview_do_this_first_panel_links_to_the_filtered_list(page, live_server):
    make_user("alice", "Security approvers")
    from findings.models import ThreatIntel

    tag = make_tag("library/nginx", registry="docker.io", tag="1.25-alpine")
    findings = make_findings(tag, 3, severities=["critical"])
    ThreatIntel.objects.create(vulnerability_id=findings[0].vulnerability_id, kev=True)
    make_action(make_tag("team/api"), state=ActionState.FAILED)
    sign_in(page, live_server, "alice", "/")
    panel = page.locator("section[aria-labelledby=h-first]")
    expect(panel.locator("[data-first=kev] .n")).to_have_text("1")
    expect(panel.locator("[data-first=failed] .n")).to_have_text("1")
    shot(page, "overview_do_this_first")
    panel.locator("[data-first=kev] a").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).to_contain_text(findings[0].vulnerability_id)


def test_go_live_checklist_from_the_overview_banner(page, live_server, monkeypatch, settings):
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    settings.WEBHOOK_ALLOW_UNAUTHENTICATED = False
    make_user("alice", "Security approvers")
    sign_in(page, live_server, "alice")
    banner = page.locator("#setup-banner")
    expect(banner).to_contain_text("things to set up")
    banner.get_by_role("link", name="things to set up").click()
    expect(page).to_have_url(f"{live_server.url}/setup/")
    expect(page.locator("h1")).to_have_text("Go-live checklist")
    expect(page.locator("#setup-targets-none")).to_have_attribute("data-status", "missing")
    expect(page.locator("#setup-targets-none")).to_contain_text("No enabled build target")
    expect(page.locator("#setup-admission-policies")).to_contain_text(
        "a fresh install denies nothing at admission"
    )
    fix = page.locator("#setup-targets-none").get_by_role("link")
    assert fix.get_attribute("href") == "/admin/remediator/buildtarget/add/"
    shot(page, "setup_checklist")


def test_an_approval_that_cannot_be_dispatched_is_refused_naming_what_to_set_up(page, live_server):
    bob = make_user("bob", "Security approvers")
    make_user("alice", "Security approvers")
    action = _waiting_action(bob)
    sign_in(page, live_server, "alice", "/approvals/")
    card = page.locator(f"#action-{action.pk}")
    expect(card.locator("[data-dispatch=blocked]")).to_contain_text(
        "no enabled build target matches registry.test/team/payments"
    )
    expect(card.get_by_role("button", name="Approve & rebuild")).to_be_disabled()
    why = card.locator(f"#why-{action.pk}-approve")
    expect(why).to_contain_text("Cannot be dispatched: no enabled build target matches")
    expect(why.get_by_role("link")).to_have_attribute("href", "/setup/#build-targets")
    expect(card.get_by_role("button", name="Reject")).to_be_enabled()
    shot(page, "approval_refused")
    token = card.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    response = page.request.post(
        f"{live_server.url}/actions/{action.pk}/approve/", form={"csrfmiddlewaretoken": token}
    )
    assert response.ok and "Not done: not approved: this rebuild cannot be dispatched" in (
        response.text()
    )
    assert RemediationAction.objects.get(pk=action.pk).state == ActionState.AWAITING_APPROVAL


def test_the_policies_page_shows_what_an_admission_policy_would_deny(page, live_server):
    from remediator.engine.models import AdmissionPolicy
    from tests.engine.factories import ingest, running_row, vuln

    admin = get_user_model().objects.create_superuser("ada", "ada@example.com", PASSWORD)
    sign_in(page, live_server, admin.username, "/policies/")
    section = page.locator("#admission")
    expect(section).to_contain_text("No admission policy: every image is admitted.")
    section.get_by_role("link", name="Create an admission policy").click()
    expect(page.locator("h1")).to_contain_text("Add admission policy")

    ingest(vuln("CVE-2024-6119"), image="alpine", tag="3.10", digest_no=310)
    running_row("shop", "cart", "alpine:3.10")
    running_row("shop", "web", "nginx:1.27")  # never scanned: not a policy's call
    policy = AdmissionPolicy.objects.create(
        name="block-critical", min_severity="critical", description="No critical CVE runs."
    )
    page.goto(f"{live_server.url}/policies/#admission")
    row = page.locator(f"#admission-{policy.pk}")
    expect(row).to_contain_text("enforce: denies")
    expect(row.locator(".would-running")).to_have_text("1")
    expect(row).to_contain_text("1 never scanned")
    expect(row).to_contain_text("no build target matches")
    expect(row.get_by_role("link", name="Edit block-critical")).to_be_visible()
    page.locator(f"#would-deny-{policy.pk} summary").click()
    details = page.locator(f"#would-deny-{policy.pk}")
    expect(details).to_contain_text("Deployment/cart")
    expect(details).to_contain_text("CVE-2024-6119")
    section.screenshot(path=str(_shots() / "policies_admission.png"))

    page.locator("#id_admission_days").fill("30")
    page.get_by_role("button", name="Judge reviews again").click()
    expect(page).to_have_url(f"{live_server.url}/policies/?admission_days=30#admission")
    expect(section).to_contain_text("reviews of the last 30 days that the webhook allowed")


def test_the_demo_s_admission_policies_are_shown_with_what_they_would_deny(page, live_server):
    from django.core.management import call_command

    call_command("demo", images=8, stdout=io.StringIO())
    user = get_user_model().objects.get(username="alice")
    user.set_password(PASSWORD)
    user.save()
    sign_in(page, live_server, "alice", "/policies/")
    section = page.locator("#admission")
    expect(section.locator("#admission-policies tbody tr")).to_have_count(2)
    expect(section).to_contain_text("block-kev")
    for summary in section.locator("details.would-deny summary").all():
        summary.click()
    section.screenshot(path=str(_shots() / "policies_admission_demo.png"))


def _shots() -> Path:
    folder = django_settings.BASE_DIR / "var" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
