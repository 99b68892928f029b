"""`manage.py check_targets [--ping]`: configuration checks and a real ping."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from remediator.engine.models import BuildTarget

pytestmark = pytest.mark.django_db

TRIGGER = "trigger-S3CRET-value"
API = "api-S3CRET-value"


@pytest.fixture(autouse=True)
def secrets(monkeypatch, settings):
    monkeypatch.setenv("REMEDIATOR_SECRET_CHECK_TRIGGER", TRIGGER)
    monkeypatch.setenv("REMEDIATOR_SECRET_CHECK_API", API)
    settings.PROVIDER_RETRIES = 1
    settings.PROVIDER_RETRY_BACKOFF = 0.001


def gitlab(**fields) -> BuildTarget:
    values = {
        "name": "shop-api",
        "provider": "gitlab",
        "url": "https://gitlab.example.com",
        "project": "42",
        "token_env": "REMEDIATOR_SECRET_CHECK_TRIGGER",
        "api_token_env": "REMEDIATOR_SECRET_CHECK_API",
    }
    return BuildTarget.objects.create(**(values | fields))


def check(*args: str) -> tuple[str, bool]:
    """(output, whether the command failed)."""
    out = StringIO()
    try:
        call_command("check_targets", *args, stdout=out)
    except CommandError as exc:
        assert exc.returncode == 1
        return out.getvalue(), True
    return out.getvalue(), False


def test_well_configured_targets_are_ok():
    gitlab()
    BuildTarget.objects.create(
        name="web", provider="github", project="acme/web", workflow="rebuild.yml",
        token_env="REMEDIATOR_SECRET_CHECK_TRIGGER",
    )  # fmt: skip

    output, failed = check()

    assert not failed
    assert output.splitlines() == ["shop-api  gitlab    OK", "web       github    OK"]


def test_missing_secret_names_the_variable_and_never_a_value(monkeypatch):
    monkeypatch.delenv("REMEDIATOR_SECRET_CHECK_API")
    gitlab()

    output, failed = check()

    assert failed
    assert (
        output.strip() == "shop-api  gitlab    FAIL secret REMEDIATOR_SECRET_CHECK_API is not set"
    )
    assert TRIGGER not in output


def test_http_url_outside_localhost_fails_and_localhost_is_allowed():
    gitlab(name="plain", url="http://gitlab.example.com")
    gitlab(name="local", url="http://127.0.0.1:8080")
    gitlab(name="broken", url="gitlab.example.com")

    output, failed = check()

    assert failed
    assert output.splitlines() == [
        "broken  gitlab    FAIL url 'gitlab.example.com' is not an http(s) URL",
        "local   gitlab    OK",
        "plain   gitlab    FAIL url 'http://gitlab.example.com' must use https "
        "(plain http only for PLAIN_HTTP_HOSTS: localhost, 127.0.0.1, ::1)",
    ]


def test_github_without_workflow_or_owner_repo_fails():
    BuildTarget.objects.create(
        name="web", provider="github", project="web", token_env="REMEDIATOR_SECRET_CHECK_TRIGGER"
    )

    output, failed = check()

    assert failed
    assert "project 'web' should be owner/repo" in output
    assert "workflow is required for github" in output


def test_unknown_provider_and_jenkins_without_url_fail():
    gitlab(name="odd", provider="travis")
    gitlab(name="jobs", provider="jenkins", url="", project="platform//rebuild")

    output, failed = check()

    assert failed
    assert "odd   travis    FAIL unknown provider 'travis'" in output
    assert "url is required; project 'platform//rebuild' should be a job path" in output


def test_ping_accepts_a_gitlab_that_knows_the_project(httpserver):
    httpserver.expect_oneshot_request(
        "/api/v4/projects/42", method="GET", headers={"PRIVATE-TOKEN": API}
    ).respond_with_json({"id": 42, "path_with_namespace": "shop/api"})
    gitlab(url=httpserver.url_for("").rstrip("/"))

    output, failed = check("--ping")

    assert not failed
    assert output.strip() == "shop-api  gitlab    OK"
    httpserver.check_assertions()
    assert len(httpserver.log) == 1


def test_ping_reports_a_gitlab_that_refuses_the_token(httpserver):
    httpserver.expect_oneshot_request(
        "/api/v4/projects/42", method="GET", headers={"PRIVATE-TOKEN": API}
    ).respond_with_json({"message": "401 Unauthorized"}, status=401)
    gitlab(url=httpserver.url_for("").rstrip("/"))

    output, failed = check("--ping")

    assert failed
    assert output.startswith("shop-api  gitlab    FAIL ping: ")
    assert "401" in output
    assert API not in output and TRIGGER not in output


def test_ping_is_not_attempted_when_the_configuration_is_already_wrong(httpserver):
    gitlab(url=httpserver.url_for("").rstrip("/"), api_token_env="REMEDIATOR_SECRET_CHECK_UNSET")

    output, failed = check("--ping")

    assert failed
    assert "secret REMEDIATOR_SECRET_CHECK_UNSET is not set" in output
    assert httpserver.log == []


def test_command_line_exit_status_is_1_when_a_target_fails(tmp_path):
    """The real process exit status, as a deploy script sees it."""
    db = tmp_path / "check.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{db}", "DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    manage = [sys.executable, str(Path(__file__).parents[2] / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)
    ok = subprocess.run([*manage, "check_targets"], env=env, capture_output=True, text=True)
    assert (ok.returncode, ok.stdout.strip()) == (0, "no build targets")
    create = (
        "from remediator.engine.models import BuildTarget as B; B.objects.create("
        "name='x', provider='webhook', url='https://h.example', token_env='NOPE')"
    )
    subprocess.run([*manage, "shell", "-c", create], env=env, check=True)

    failing = subprocess.run([*manage, "check_targets"], env=env, capture_output=True, text=True)

    assert failing.returncode == 1
    assert "FAIL secret NOPE is not an allowed secret name" in failing.stdout
