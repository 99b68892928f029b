"""Login throttling (django-axes): the dashboard's and the admin's sign-in forms."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db
WRONG = "hunter2-not-the-password"


@pytest.fixture(autouse=True)
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast


def fail(client, url: str, username: str, times: int) -> list[int]:
    return [
        client.post(url, {"username": username, "password": WRONG}).status_code
        for _ in range(times)
    ]


def test_dashboard_login_locks_after_the_limit_even_with_the_right_password(client, viewer):
    assert fail(client, "/login/", "victor", 2) == [200, 200]  # the form again, with an error

    locked = client.post("/login/", {"username": "victor", "password": WRONG})
    again = client.post("/login/", {"username": "victor", "password": PASSWORD})

    assert locked.status_code == 429 and again.status_code == 429
    page = again.content.decode()
    assert "Too many sign-in attempts" in page and "Try again in" in page
    assert client.get("/").status_code == 302  # not signed in


def test_a_success_before_the_limit_resets_the_count(client, viewer):
    fail(client, "/login/", "victor", 2)
    assert client.post("/login/", {"username": "victor", "password": PASSWORD}).status_code == 302
    client.post("/logout/")
    assert fail(client, "/login/", "victor", 2) == [200, 200]


def test_lockout_is_per_user_and_address(client, viewer, approver):
    fail(client, "/login/", "victor", 3)
    assert client.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 302
    other = client.post(
        "/login/", {"username": "victor", "password": PASSWORD}, REMOTE_ADDR="192.0.2.9"
    )
    assert other.status_code == 302


def test_admin_login_is_throttled_too(client):
    get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    fail(client, "/admin/login/", "root", 3)
    response = client.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()


def test_a_script_gets_json(client, viewer):
    fail(client, "/login/", "victor", 3)
    response = client.post(
        "/login/",
        {"username": "victor", "password": PASSWORD},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )
    assert response.status_code == 429
    assert response.json()["failure_limit"] == 3


def test_the_password_is_never_logged(client, viewer, caplog):
    with caplog.at_level("DEBUG"):
        fail(client, "/login/", "victor", 4)
    assert WRONG not in caplog.text
