"""The go-live checklist: what a fresh install lacks, what configuring it changes, and
``manage.py check_setup`` (text, --json, exit status). Secrets are named, never shown."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from remediator.engine.audit import audit_record
from remediator.engine.checklist import Status, setup_checklist
from remediator.engine.checklist.pings import setup_pings_read, setup_pings_run
from remediator.engine.models import AdmissionPolicy, BuildTarget
from remediator.engine.services import scan_evaluate

from .factories import ingest, vuln

pytestmark = pytest.mark.django_db
HOOK_SECRET = "hook-S3CRET-value"
TRIGGER = "trigger-S3CRET-value"
API_TOKEN = "api-S3CRET-value"


@pytest.fixture(autouse=True)
def bare(monkeypatch, settings):
    """Nothing configured, whatever the machine running the tests has set."""
    for name in (
        "WEBHOOK_SECRET",
        "WEBHOOK_SECRET_AQUA",
        "WEBHOOK_SECRET_TRIVY",
        "ADMISSION_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    settings.WEBHOOK_ALLOW_UNAUTHENTICATED = False
    settings.EPSS_URL = settings.KEV_URL = ""


def items(**kwargs) -> dict:
    return {item.key: item for item in setup_checklist(**kwargs).items}


def all_text(checklist) -> str:
    return json.dumps([item.as_dict() for item in checklist.items])


def gitlab_target(url: str = "https://gitlab.example.com") -> BuildTarget:
    return BuildTarget.objects.create(
        name="acme-gitlab",
        provider="gitlab",
        url=url,
        project="42",
        token_env="REMEDIATOR_SECRET_SETUP_TRIGGER",
        api_token_env="REMEDIATOR_SECRET_SETUP_API",
        image_patterns=["registry.example.com/acme/*"],
    )


def test_a_fresh_install_lacks_a_webhook_secret_and_a_build_target_and_denies_nothing():
    checklist = setup_checklist()
    found = {item.key: item for item in checklist.items}

    assert {i.key for i in checklist.required_missing} == {"webhooks", "targets-none"}
    assert found["webhooks"].fix.startswith("set WEBHOOK_SECRET")
    assert found["targets-none"].fix_url == "/admin/remediator/buildtarget/add/"
    policies = found["admission-policies"]
    assert policies.status == Status.WARNING
    assert "a fresh install denies nothing at admission" in policies.detail
    assert found["admission-webhook"].detail.startswith("Never called")
    assert found["notifications"].status == Status.WARNING
    assert found["intel-kev"].status == Status.WARNING
    assert found["aqua"].status == Status.OK  # not configured, and no policy needs it


def test_secrets_are_named_set_or_not_set_never_shown(monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET_AQUA", HOOK_SECRET)
    monkeypatch.setenv("REMEDIATOR_SECRET_SETUP_TRIGGER", TRIGGER)
    gitlab_target()

    checklist = setup_checklist()
    found = {item.key: item for item in checklist.items}

    assert found["webhooks"].status == Status.OK
    assert "Accepting reports from aqua" in found["webhooks"].detail
    assert found["webhook-aqua"].detail.startswith("WEBHOOK_SECRET_AQUA is set")
    target = found["target-acme-gitlab"]
    assert target.status == Status.MISSING and target.required
    assert "token_env REMEDIATOR_SECRET_SETUP_TRIGGER: set" in target.detail
    assert "api_token_env REMEDIATOR_SECRET_SETUP_API: not set" in target.detail
    text = all_text(checklist)
    assert HOOK_SECRET not in text and TRIGGER not in text


def test_a_source_that_sent_reports_but_has_no_secret_now_is_missing(monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET_AQUA", HOOK_SECRET)
    ingest(vuln())  # a "generic" delivery

    found = items()

    assert found["webhook-generic"].status == Status.MISSING
    assert "refused now" in found["webhook-generic"].detail


def test_images_an_action_waits_to_rebuild_without_a_target_are_named(defaults):
    scan_evaluate(scan_id=ingest(vuln()).pk)

    uncovered = items()["targets-uncovered"]

    assert uncovered.status == Status.MISSING and uncovered.required
    assert "registry.example.com/acme/api" in uncovered.detail


def test_a_target_covering_them_turns_both_items_green(defaults, monkeypatch):
    monkeypatch.setenv("REMEDIATOR_SECRET_SETUP_TRIGGER", TRIGGER)
    monkeypatch.setenv("REMEDIATOR_SECRET_SETUP_API", API_TOKEN)
    scan_evaluate(scan_id=ingest(vuln()).pk)
    gitlab_target()

    found = items()

    assert found["targets-uncovered"].status == Status.OK
    assert found["target-acme-gitlab"].status == Status.OK
    assert "Not checked yet" in found["target-acme-gitlab"].detail
    assert "targets-none" not in found


def test_reachability_comes_from_the_stored_check(monkeypatch, httpserver):
    monkeypatch.setenv("REMEDIATOR_SECRET_SETUP_TRIGGER", TRIGGER)
    monkeypatch.setenv("REMEDIATOR_SECRET_SETUP_API", API_TOKEN)
    httpserver.expect_request(
        "/api/v4/projects/42", headers={"PRIVATE-TOKEN": API_TOKEN}
    ).respond_with_json({"message": "401 Unauthorized"}, status=401)
    target = gitlab_target(url=httpserver.url_for("").rstrip("/"))

    stored = setup_pings_run()

    assert setup_pings_read() == stored and "401" in stored.targets[target.pk]
    item = items()["target-acme-gitlab"]  # reads the stored answer: no call made here
    assert len(httpserver.log) == 1
    assert item.status == Status.WARNING and "Not reachable when checked" in item.detail


def test_base_url_against_the_address_serving_the_request(settings):
    settings.BASE_URL = "http://127.0.0.1:8000"

    assert items(serving="http://127.0.0.1:8000/")["base-url"].status == Status.OK
    moved = items(serving="http://127.0.0.1:9000/")["base-url"]
    assert moved.status == Status.WARNING
    assert "served from http://127.0.0.1:9000" in moved.detail
    assert moved.fix == "set BASE_URL=http://127.0.0.1:9000 in .env"


def test_admission_policies_and_the_last_review_are_reported():
    AdmissionPolicy.objects.create(name="no-criticals")
    audit_record(kind="admission", actor_label="admission", message="deny: CVE")

    found = items()

    assert found["admission-policies"].status == Status.OK
    assert "1 enabled (1 enforce, 0 warn)" in found["admission-policies"].detail
    assert found["admission-webhook"].detail.startswith("Last review")


def test_aqua_needed_by_a_policy_but_not_configured_is_required(defaults, settings):
    from remediator.engine.models import Policy

    settings.AQUA_URL = ""
    Policy.objects.create(name="rescan-old", action="rescan")

    aqua = items()["aqua"]

    assert aqua.status == Status.MISSING and aqua.required
    assert "rescan-old" in aqua.detail


def test_aqua_configured_reports_its_last_successful_call(settings):
    settings.AQUA_URL = "https://aqua.example.com"
    audit_record(
        kind="provider_call",
        actor_label="provider:aqua",
        message="POST /api/v1/login -> 200",
        data={"provider": "aqua", "status": 200},
    )

    aqua = items()["aqua"]

    assert aqua.status == Status.OK and "last successful call" in aqua.detail


# --- manage.py check_setup


def run(*args: str) -> tuple[str, bool]:
    out = StringIO()
    try:
        call_command("check_setup", *args, stdout=out)
    except CommandError as exc:
        assert exc.returncode == 1
        return out.getvalue(), True
    return out.getvalue(), False


def test_command_fails_while_something_required_is_missing_and_names_the_fix():
    output, failed = run()

    assert failed
    assert "MISSING (required)" in output and "Scanners can post reports" in output
    assert "fix: add one (provider, project, image patterns, token_env) in the admin" in output
    assert "thing(s) to set up." in output


def test_command_json_and_exit_0_once_required_items_are_set(monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET", HOOK_SECRET)
    monkeypatch.setenv("REMEDIATOR_SECRET_SETUP_TRIGGER", TRIGGER)
    monkeypatch.setenv("REMEDIATOR_SECRET_SETUP_API", API_TOKEN)
    gitlab_target()

    output, failed = run("--json")

    assert not failed
    document = json.loads(output)
    assert document["ok"] is True and document["required_missing"] == []
    statuses = {item["key"]: item["status"] for item in document["items"]}
    assert statuses["webhooks"] == "ok" and statuses["target-acme-gitlab"] == "ok"
    assert statuses["admission-policies"] == "warning"  # warnings do not fail the command
    assert HOOK_SECRET not in output and TRIGGER not in output


def test_command_line_exit_status_is_1_on_a_fresh_install(tmp_path):
    """The real process exit status, as a deploy script sees it."""
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'setup.sqlite3'}",
        "DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    manage = [sys.executable, str(Path(__file__).parents[2] / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)

    done = subprocess.run(
        [*manage, "check_setup", "--json"], env=env, capture_output=True, text=True
    )

    assert done.returncode == 1
    assert json.loads(done.stdout)["required_missing"] == ["webhooks", "targets-none"]
