"""LOCAL_LOGIN=false: no password form, password posts refused; superusers keep a
break-glass sign-in at /login/local/, every use audited and logged."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model

from remediator.core.permissions import GROUP_VIEWER
from remediator.engine.management.commands.demo import ensure_groups
from remediator.engine.models import AuditEvent

PASSWORD = "a-long-local-password"
User = get_user_model()


@pytest.fixture
def sso_on(db, settings):
    """SSO configured (nothing here reaches the provider); local login as the test sets."""
    settings.OIDC_DISCOVERY_URL = "https://idp.example.com/.well-known/openid-configuration"
    settings.OIDC_CLIENT_ID = "remediator"
    settings.OIDC_PROVIDER_NAME = "Example IdP"
    return settings


@pytest.fixture
def local_off(sso_on):
    sso_on.LOCAL_LOGIN = False
    return sso_on


@pytest.fixture
def viewer(db):
    user = User.objects.create_user("val", password=PASSWORD)
    user.groups.add(ensure_groups()[GROUP_VIEWER])
    return user


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", "root@example.com", PASSWORD)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_sign_in_page_offers_the_provider_and_the_form_when_both_are_on(sso_on, client):
    page = client.get("/login/?next=/findings/").content.decode()

    assert "Sign in with Example IdP" in page
    assert 'href="/oidc/authenticate/?next=/findings/"' in page
    assert 'name="password"' in page


def test_without_sso_the_page_is_the_password_form_only(db, client):
    page = client.get("/login/").content.decode()

    assert "Sign in with" not in page and 'name="password"' in page


def test_local_login_off_hides_the_form(local_off, client):
    page = client.get("/login/").content.decode()

    assert "Sign in with Example IdP" in page
    assert 'name="password"' not in page


@pytest.mark.parametrize("who", ["viewer", "root"])
def test_local_login_off_refuses_password_posts_at_login(local_off, client, request, who):
    user = request.getfixturevalue(who)

    response = client.post("/login/", {"username": user.username, "password": PASSWORD})

    assert response.status_code == 403 and not signed_in(client)
    assert b"Password sign-in is switched off" in response.content
    event = AuditEvent.objects.get(kind="sign_in")
    assert "local sign-in refused" in event.message and event.actor_label == user.username


def test_break_glass_lets_a_superuser_in_audited_and_logged(local_off, client, root, caplog):
    page = client.get("/login/local/").content.decode()
    assert "Break-glass sign-in" in page and 'name="password"' in page

    with caplog.at_level(logging.WARNING):
        response = client.post(
            "/login/local/", {"username": "root", "password": PASSWORD, "next": "/audit/"}
        )

    assert response.status_code == 302 and response["Location"] == "/audit/"
    assert signed_in(client)
    event = AuditEvent.objects.get(kind="sign_in")
    assert event.actor == root and "break-glass" in event.message
    assert "break-glass local sign-in by 'root'" in caplog.text


def test_break_glass_refuses_everyone_else(local_off, client, viewer):
    response = client.post("/login/local/", {"username": "val", "password": PASSWORD})

    assert response.status_code == 200 and not signed_in(client)
    assert b"only an administrator may sign in here" in response.content
    assert "refused" in AuditEvent.objects.get(kind="sign_in").message


def test_break_glass_with_a_wrong_password_is_a_plain_failure(local_off, client, root):
    response = client.post("/login/local/", {"username": "root", "password": "wrong"})

    assert response.status_code == 200 and not signed_in(client)
    assert b"didn&#x27;t match" in response.content
    assert not AuditEvent.objects.filter(kind="sign_in").exists()


def test_with_local_login_on_password_sign_in_works_and_is_not_break_glass(sso_on, client, viewer):
    response = client.post("/login/", {"username": "val", "password": PASSWORD})

    assert response.status_code == 302 and signed_in(client)
    assert not AuditEvent.objects.filter(kind="sign_in").exists()


def test_the_admin_sign_in_form_follows_local_login(local_off, client, root):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/admin/"

    client.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert not signed_in(client)


def test_the_admin_sign_in_form_works_while_local_login_is_on(sso_on, client, root):
    response = client.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})

    assert response.status_code == 302 and signed_in(client)
