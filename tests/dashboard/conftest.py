from __future__ import annotations

import os
import shutil

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from remediator.engine.management.commands.demo import ensure_groups

PASSWORD = "s3cret-pass"


BROWSER_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def installed_chromium() -> str | None:
    """CHROMIUM_PATH, else a Chromium or Chrome on the PATH (Debian's is /usr/bin/chromium)."""
    if os.environ.get("CHROMIUM_PATH"):
        return os.environ["CHROMIUM_PATH"]
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


CHROMIUM = installed_chromium()
NO_BROWSER = (
    "the browser tests need a Chromium: none found (Debian's `chromium` package, which "
    "make test installs, or CHROMIUM_PATH)"
)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """An installed Chromium, never a downloaded browser build."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": BROWSER_ARGS}


def _is_browser_test(item) -> bool:
    """A test in test_browser.py or test_browser_<what>.py."""
    return item.module.__name__.rsplit(".", 1)[-1].startswith("test_browser")


def pytest_collection_modifyitems(config, items):
    """Browser tests last: Playwright's event loop then never meets another test.

    Without a Chromium the run stops, naming it (make test installs it:
    deploy/test-tools.sh)."""
    items.sort(key=_is_browser_test)
    if not CHROMIUM and any(_is_browser_test(item) for item in items):
        raise pytest.UsageError(NO_BROWSER)


def make_user(username: str, group: str | None):
    return _user(username, group)


def _user(username: str, group: str | None):
    user = get_user_model().objects.create_user(username, password=PASSWORD)
    if group:
        user.groups.add(ensure_groups()[group])
    return user


@pytest.fixture
def ready_target(db, monkeypatch):
    """An enabled build target for every image, its secret set: approvals can dispatch."""
    from remediator.engine.models import BuildTarget

    monkeypatch.setenv("REMEDIATOR_SECRET_DASH_READY", "trigger-token")
    return BuildTarget.objects.create(
        name="every-image",
        provider="webhook",
        url="https://ci.example.com/hook",
        project="all",
        token_env="REMEDIATOR_SECRET_DASH_READY",
        image_patterns=["*"],
    )


@pytest.fixture
def approver(db):
    return _user("alice", "Security approvers")


@pytest.fixture
def second_approver(db):
    return _user("bob", "Security approvers")


@pytest.fixture
def viewer(db):
    return _user("victor", "Viewer")


@pytest.fixture
def staff_viewer(db):
    """Staff in the Viewer group: sees raw delivery bodies."""
    user = _user("stella", "Viewer")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.fixture
def nobody(db):
    return _user("nora", None)


@pytest.fixture
def client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture(autouse=True)
def _no_stored_overview(request):
    """Each test sees its own rows, never overview figures stored by an earlier test
    (rows in the cache table outlive a transactional test's flush)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    transactional = marker.kwargs.get("transaction", False)
    request.getfixturevalue("transactional_db" if transactional else "db")
    cache.clear()
