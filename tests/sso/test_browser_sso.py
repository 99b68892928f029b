"""In Debian's Chromium: sign in through the real provider's login and consent forms as a
person whose group maps to Approver, land on the dashboard signed in, see Approve."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect

from remediator.engine.management.commands.demo import ensure_groups
from remediator.engine.models import AuditEvent
from tests.dashboard.conftest import (
    browser_type_launch_args,  # noqa: F401 - Chromium used
    make_user,
)
from tests.dashboard.factories import make_action, make_findings, make_tag

from .conftest import APPROVERS, provider_running, sso_settings

pytestmark = pytest.mark.django_db(transaction=True)
# Playwright's sync API keeps an event loop running in the main thread (see
# tests/dashboard/test_browser.py): the ORM calls here are plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def live_provider(live_server, tmp_path_factory):
    """The provider, its client's redirect URI that of the live server."""
    folder = tmp_path_factory.mktemp("oidc-live")
    with provider_running(folder, [f"{live_server.url}/oidc/callback/"]) as provider:
        yield provider


def test_an_approver_signs_in_through_the_provider_and_can_approve(
    page: Page, live_server, live_provider, settings
):
    sso_settings(settings, live_provider)
    ensure_groups()  # a transactional test before this one flushed the migration's groups
    live_provider.account_set(
        "sub-alice", preferred_username="alice", email="alice@example.com", groups=[APPROVERS]
    )
    tag = make_tag("team/payments")
    action = make_action(tag, requested_by=make_user("bob", None), findings=make_findings(tag, 2))

    page.goto(f"{live_server.url}/approvals/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/approvals/")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    page.locator("input[name=login]").fill("sub-alice")
    page.locator("input[name=password]").fill("anything")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(f"{live_server.url}/approvals/")
    expect(page.locator(".userbox .who")).to_have_text("alice")
    card = page.locator(f"#action-{action.pk}")
    try:
        expect(card).to_contain_text("team/payments", timeout=15_000)
    except AssertionError as exc:  # say what the queue showed instead
        shown = page.locator("main").inner_text()[:800]
        raise AssertionError(f"{exc}\nthe approvals page showed: {shown}") from exc
    expect(card.get_by_role("button", name="Approve & rebuild")).to_be_visible()
    assert AuditEvent.objects.filter(kind="sign_in", actor__username="alice").exists()
