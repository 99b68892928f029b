"""A build target's secrets: only prefixed variables or files in SECRETS_DIR."""

from __future__ import annotations

import pytest

from remediator.core.secrets import (
    MissingSecret,
    SecretNameRefused,
    read_target_secret,
    target_secret_problem,
)


@pytest.fixture
def secrets_dir(tmp_path, settings):
    settings.SECRETS_DIR = str(tmp_path)
    (tmp_path / "gitlab_trigger").write_text("glptt-from-a-file\n")
    (tmp_path / "empty").write_text("")
    return tmp_path


@pytest.mark.parametrize(
    "name",
    ["HARBOR_PASSWORD", "DATABASE_URL", "AQUA_PASSWORD", "WEBHOOK_SECRET", "SECRET_KEY", "HOME"],
)
def test_settings_and_other_variables_are_refused_by_name(name, monkeypatch):
    monkeypatch.setenv(name, "the-value")

    assert name in target_secret_problem(name)
    with pytest.raises(SecretNameRefused) as refused:
        read_target_secret(name)
    assert name in str(refused.value) and "the-value" not in str(refused.value)


@pytest.mark.parametrize(
    "name",
    [
        "../etc/passwd",
        "a/b",
        ".hidden",
        "",
        "REMEDIATOR_SECRET_",
        "x y",
        "TOK\n",
        "REMEDIATOR_SECRET_X\n",
    ],
)
def test_names_that_are_no_variable_or_file_name_are_refused(name, secrets_dir):
    assert target_secret_problem(name)


def test_a_prefixed_variable_or_its_file_is_read(monkeypatch, tmp_path):
    monkeypatch.setenv("REMEDIATOR_SECRET_CI", "tok-1")
    assert target_secret_problem("REMEDIATOR_SECRET_CI") == ""
    assert read_target_secret("REMEDIATOR_SECRET_CI") == "tok-1"
    (tmp_path / "t").write_text("tok-2\n")
    monkeypatch.delenv("REMEDIATOR_SECRET_CI")
    monkeypatch.setenv("REMEDIATOR_SECRET_CI_FILE", str(tmp_path / "t"))
    assert read_target_secret("REMEDIATOR_SECRET_CI") == "tok-2"


def test_a_prefixed_variable_that_is_not_set_names_the_variable(monkeypatch):
    monkeypatch.delenv("REMEDIATOR_SECRET_NOPE", raising=False)
    with pytest.raises(MissingSecret, match="REMEDIATOR_SECRET_NOPE is not set"):
        read_target_secret("REMEDIATOR_SECRET_NOPE")


def test_files_in_the_secrets_dir_are_allowed_by_name(secrets_dir, monkeypatch):
    monkeypatch.setenv("gitlab_trigger", "from-the-environment")  # never read: not prefixed

    assert read_target_secret("gitlab_trigger") == "glptt-from-a-file"
    assert "not an allowed" in target_secret_problem("missing_file")
    with pytest.raises(MissingSecret, match="empty"):
        read_target_secret("empty")


def test_the_prefix_is_a_setting(settings, monkeypatch):
    settings.SECRET_ENV_PREFIX = "ACME_CI_SECRET_"
    monkeypatch.setenv("ACME_CI_SECRET_GITHUB", "ghp-1")

    assert read_target_secret("ACME_CI_SECRET_GITHUB") == "ghp-1"
    assert "ACME_CI_SECRET_" in target_secret_problem("REMEDIATOR_SECRET_GITHUB")
