"""``manage.py ensure_admin``: the first admin user, with or without a chosen password."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PASSWORD = "chosen-Passw0rd-for-admin"


@pytest.fixture(autouse=True)
def no_admin_settings(monkeypatch):
    for name in (
        "DJANGO_SUPERUSER_USERNAME",
        "DJANGO_SUPERUSER_PASSWORD",
        "DJANGO_SUPERUSER_PASSWORD_FILE",
        "DJANGO_SUPERUSER_EMAIL",
    ):
        monkeypatch.delenv(name, raising=False)


def ensure_admin(*args: str) -> str:
    out = StringIO()
    call_command("ensure_admin", *args, stdout=out)
    return out.getvalue()


def superusers() -> list[str]:
    return list(
        get_user_model().objects.filter(is_superuser=True).values_list("username", flat=True)
    )


def signs_in(username: str, password: str) -> bool:
    return get_user_model().objects.get(username=username).check_password(password)


def test_only_with_password_and_no_password_creates_nobody_and_names_the_setting():
    said = ensure_admin("--only-with-password")

    assert superusers() == []
    assert "No admin user created" in said
    assert "DJANGO_SUPERUSER_PASSWORD" in said


def test_only_with_password_creates_the_user_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "secops")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "secops@example.com")

    said = ensure_admin("--only-with-password")

    assert superusers() == ["secops"]
    assert signs_in("secops", PASSWORD)
    assert get_user_model().objects.get(username="secops").email == "secops@example.com"
    assert said.strip() == "Created admin user 'secops'."
    assert PASSWORD not in said


def test_only_with_password_reads_the_password_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "admin-password"
    secret.write_text(PASSWORD + "\n")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD_FILE", str(secret))

    said = ensure_admin("--only-with-password")

    assert superusers() == ["admin"]
    assert signs_in("admin", PASSWORD)
    assert PASSWORD not in said


def test_without_the_flag_a_password_is_generated_and_shown_once():
    said = ensure_admin()

    assert superusers() == ["admin"]
    generated = said.split("with password ", 1)[1].split()[0]
    assert len(generated) >= 16
    assert signs_in("admin", generated)


def test_an_existing_admin_is_left_alone_with_or_without_the_flag(monkeypatch):
    get_user_model().objects.create_superuser("first", "", PASSWORD)
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "second")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)

    said = ensure_admin("--only-with-password") + ensure_admin()

    assert superusers() == ["first"]
    assert said.count("Admin user 'first' exists") == 2
