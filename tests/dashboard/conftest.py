from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from findings.management.commands.demo import ensure_groups

PASSWORD = "s3cret-pass"


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
