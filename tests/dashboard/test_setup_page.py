"""The go-live checklist page and the overview's banner pointing to it."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from remediator.engine.checklist import pings
from remediator.engine.models import BuildTarget

pytestmark = pytest.mark.django_db
HOOK_SECRET = "hook-S3CRET-value"


@pytest.fixture(autouse=True)
def bare(monkeypatch, settings):
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    settings.WEBHOOK_ALLOW_UNAUTHENTICATED = False


@pytest.fixture
def no_broker(monkeypatch):
    """The reachability check a page asks for, recorded instead of sent."""
    asked = []
    monkeypatch.setattr(pings.queue, "enqueue_setup_pings", lambda: asked.append(1))
    return asked


def test_checklist_page_lists_what_is_missing_with_its_fix(client_for, viewer, no_broker):
    page = client_for(viewer).get("/setup/").content.decode()

    assert "<h1>Go-live checklist</h1>" in page
    assert 'id="setup-webhooks" data-status="missing"' in page
    assert 'id="setup-targets-none" data-status="missing"' in page
    assert "/admin/remediator/buildtarget/add/" in page
    assert "a fresh install denies nothing at admission" in page
    assert "a fresh check is under way" in page and no_broker == [1]


def test_the_page_asks_the_worker_once_and_never_calls_a_ci_system_itself(
    client_for, viewer, no_broker, httpserver, monkeypatch
):
    monkeypatch.setenv("REMEDIATOR_SECRET_PAGE_TRIGGER", "t")
    BuildTarget.objects.create(
        name="ci",
        provider="webhook",
        url=httpserver.url_for("/hook"),
        project="x",
        token_env="REMEDIATOR_SECRET_PAGE_TRIGGER",
        image_patterns=["*"],
    )
    client = client_for(viewer)
    for _ in range(3):
        assert client.get("/setup/").status_code == 200

    assert no_broker == [1]  # queued once; the others see it queued
    assert httpserver.log == []


def test_secret_values_never_reach_the_page(client_for, staff_viewer, no_broker, monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET", HOOK_SECRET)

    page = client_for(staff_viewer).get("/setup/").content.decode()

    assert "WEBHOOK_SECRET is set" in page and HOOK_SECRET not in page


def test_overview_shows_the_banner_until_everything_is_green(client_for, viewer, no_broker):
    client = client_for(viewer)

    page = client.get("/").content.decode()

    assert 'id="setup-banner"' in page and "things to set up" in page
    assert 'href="/setup/"' in page
    cache.set("remediator:setup-to-do:v1", [], 60)  # a checklist with nothing left to do
    assert 'id="setup-banner"' not in client.get("/").content.decode()


def test_someone_without_a_role_is_refused(client_for, nobody):
    assert client_for(nobody).get("/setup/").status_code == 403
