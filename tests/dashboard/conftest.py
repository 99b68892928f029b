from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache

from findings.management.commands.demo import ensure_groups

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


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a downloaded browser build."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": BROWSER_ARGS,
    }


def pytest_collection_modifyitems(items):
    """Browser tests last: Playwright's event loop then never meets another test."""
    items.sort(key=lambda item: item.module.__name__.endswith("test_browser"))


def make_user(username: str, group: str | None):
    return _user(username, group)


def _user(username: str, group: str | None):
    user = get_user_model().objects.create_user(username, password=PASSWORD)
    if group:
        user.groups.add(ensure_groups()[group])
    return user


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
