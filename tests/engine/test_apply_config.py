"""`manage.py apply_config`: build targets and policies from YAML, by name."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from remediator.engine.models import AdmissionPolicy, AuditEvent, BuildTarget, Policy

EXAMPLE = Path(__file__).parents[2] / "examples" / "remediator.yaml"

pytestmark = pytest.mark.django_db


def run(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("apply_config", str(path), *args, stdout=out)
    return out.getvalue()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "remediator.yaml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str) -> str:
    with pytest.raises(CommandError) as caught:
        run(write(tmp_path, text))
    return str(caught.value)


def test_example_file_creates_every_target_and_policy_then_is_unchanged():
    first = run(EXAMPLE)

    assert first.splitlines()[-1] == "created 9, updated 0, unchanged 0"  # and two teams
    assert sorted(BuildTarget.objects.values_list("provider", flat=True)) == [
        "github",
        "gitlab",
        "jenkins",
        "webhook",
    ]
    shop = BuildTarget.objects.get(name="shop-api")
    assert shop.image_patterns == ["registry.example.com/shop/api", "docker.io/acme/*"]
    assert (shop.project, shop.token_env, shop.api_token_env) == (
        "42",
        "REMEDIATOR_SECRET_GITLAB_TRIGGER",
        "REMEDIATOR_SECRET_GITLAB_API",
    )
    assert shop.dockerfile.startswith("FROM python:3.12-slim\n")
    names = ["fixable-critical", "openssl-high-auto", "unfixable-critical-risky"]
    policies = [Policy.objects.get(name=name) for name in names]
    assert [p.order for p in policies] == [10, 20, 30]  # position in the file
    assert policies[1].build_target == shop
    assert policies[1].package_glob == "openssl*"
    assert policies[2].fix_available is False
    assert AuditEvent.objects.filter(kind="config").count() == 9

    assert run(EXAMPLE).splitlines()[-1] == "created 0, updated 0, unchanged 9"
    assert AuditEvent.objects.filter(kind="config").count() == 9


def test_changed_field_updates_the_row_and_audits_old_and_new(tmp_path):
    text = "policies:\n  - name: crit\n    min_severity: high\n    action: rebuild\n"
    run(write(tmp_path, text))
    output = run(write(tmp_path, text.replace("high", "critical")))

    assert "updated policy crit (min_severity: 'high' -> 'critical')" in output
    assert output.splitlines()[-1] == "created 0, updated 1, unchanged 0"
    assert Policy.objects.get(name="crit").min_severity == "critical"
    event = AuditEvent.objects.filter(kind="config").first()
    assert event.data == {"fields": {"min_severity": ["'high'", "'critical'"]}}
    assert event.object_type == "policy"


def test_dry_run_prints_what_would_change_and_saves_nothing(tmp_path):
    policies_before = Policy.objects.count()
    output = run(EXAMPLE, "--dry-run")

    assert "would create build target shop-api" in output
    assert "would create policy openssl-high-auto" in output
    assert output.splitlines()[-1] == "dry run, nothing saved: created 9, updated 0, unchanged 0"
    assert not BuildTarget.objects.exists()
    assert Policy.objects.count() == policies_before
    assert not AuditEvent.objects.exists()


def test_prune_deletes_what_the_file_no_longer_names(tmp_path):
    run(EXAMPLE)
    policies = Policy.objects.count()  # the file's three and the built-in defaults
    path = write(
        tmp_path,
        "build_targets:\n"
        "  - name: billing\n    images: ['registry.example.com/billing/*']\n"
        "    provider: jenkins\n    url: https://jenkins.example.com\n"
        "    project: platform/billing/rebuild\n    username: remediator-bot\n"
        "    token_env: REMEDIATOR_SECRET_JENKINS\n",
    )

    without_prune = run(path)
    assert BuildTarget.objects.count() == 4
    assert without_prune.splitlines()[-1] == "created 0, updated 0, unchanged 1"

    output = run(path, "--prune")
    assert list(BuildTarget.objects.values_list("name", flat=True)) == ["billing"]
    assert not Policy.objects.exists()
    assert "deleted build target shop-api" in output
    assert output.splitlines()[-1] == (
        f"created 0, updated 0, unchanged 1, deleted {3 + policies + 2}"  # and the two teams
    )


def test_dockerfile_file_is_read_relative_to_the_yaml_file(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "Dockerfile").write_text("FROM alpine:3.19\n")
    run(
        write(
            tmp_path,
            "build_targets:\n  - name: hook\n    provider: webhook\n"
            "    url: http://localhost:9000/hook\n    dockerfile_file: images/Dockerfile\n",
        )
    )

    assert BuildTarget.objects.get(name="hook").dockerfile == "FROM alpine:3.19\n"


def test_owner_and_build_target_are_looked_up_by_name(tmp_path):
    user = get_user_model().objects.create_user("alice")
    BuildTarget.objects.create(name="existing", provider="webhook", url="https://x.example")
    run(
        write(
            tmp_path,
            "policies:\n  - name: p\n    action: rebuild\n    owner: alice\n"
            "    build_target: existing\n    order: 7\n    vulnerabilities: [CVE-2024-3094]\n",
        )
    )

    policy = Policy.objects.get(name="p")
    assert (policy.owner, policy.build_target.name, policy.order) == (user, "existing", 7)
    assert policy.vulnerability_ids == ["CVE-2024-3094"]


BAD_TARGETS = """\
build_targets:
  - name: one
    provider: gitlub
    project: "1"
  - name: two
    provider: gitlab
    images: "docker.io/acme/*"
  - name: three
    provider: github
    project: acme/web
    token_env: "my-token"
  - name: four
    provider: jenkins
    url: "not a url"
    project: job
    colour: blue
"""


def test_every_build_target_problem_is_reported_with_its_line(tmp_path):
    message = problems(tmp_path, BAD_TARGETS)

    assert "remediator.yaml:3: build_targets[0].provider: unknown provider 'gitlub'" in message
    assert "remediator.yaml:5: build_targets[1]: project is required for gitlab" in message
    assert (
        "remediator.yaml:7: build_targets[1].images: must be a list of strings, "
        "not 'docker.io/acme/*'" in message
    )
    assert "remediator.yaml:8: build_targets[2]: workflow is required for github" in message
    assert (
        "remediator.yaml:11: build_targets[2].token_env: 'my-token' is not a secret name" in message
    )
    assert "remediator.yaml:14: build_targets[3].url: not an http(s) URL" in message
    assert "remediator.yaml:16: build_targets[3].colour: unknown key" in message
    assert not BuildTarget.objects.exists()


BAD_POLICIES = """\
policies:
  - name: p1
    min_severity: severe
    action: rebuild
  - name: p2
    action: explode
    package: [openssl, curl]
  - name: p3
    action: notify
    build_target: nowhere
    min_age_days: -1
  - description: no name
    action: rebuild
"""


def test_every_policy_problem_is_reported_with_its_line(tmp_path):
    message = problems(tmp_path, BAD_POLICIES)

    assert "remediator.yaml:3: policies[0].min_severity: unknown severity" in message
    assert "remediator.yaml:6: policies[1].action: unknown action" in message
    assert "remediator.yaml:7: policies[1].package: must be a string" in message
    assert "remediator.yaml:10: policies[2].build_target: no build target named 'nowhere'" in (
        message
    )
    assert "remediator.yaml:11: policies[2].min_age_days: must be a whole number >= 0" in message
    assert "remediator.yaml:12: policies[3]: name is required" in message
    assert not Policy.objects.filter(name__in=["p1", "p2", "p3"]).exists()


def test_a_file_that_is_not_yaml_is_rejected_with_the_parser_message(tmp_path):
    assert "not valid YAML" in problems(tmp_path, "policies: [unclosed\n")


CRITERIA = """
  - name: {name}
    min_severity: high
    fix_available: true
    fix_grace_days: 14
    include_wont_fix: true
    package: "openssl*"
    image: "registry.example.com/shop/*"
    vulnerabilities: [CVE-2024-6119]
    min_age_days: 2
    kev: true
    min_epss: 0.5
    running: true
    namespace: "prod-*"
"""


def run_both(path: Path) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("apply_config", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_both_kinds_of_policy_take_the_same_criteria_keys_silently(tmp_path):
    text = (
        "policies:"
        + CRITERIA.format(name="remediate")
        + "    action: rebuild\nadmission_policies:"
        + CRITERIA.format(name="admit")
    )
    out, err = run_both(write(tmp_path, text))

    assert out.splitlines()[-1] == "created 2, updated 0, unchanged 0" and err == ""
    columns = [
        "min_severity", "fix_available", "fix_grace_days", "include_wont_fix", "package_glob",
        "image_glob", "vulnerability_ids", "min_age_days", "kev", "min_epss", "running",
        "namespace_glob",
    ]  # fmt: skip
    remediate = Policy.objects.filter(name="remediate").values(*columns).get()
    admit = AdmissionPolicy.objects.filter(name="admit").values(*columns).get()
    assert remediate == admit
    assert (admit["fix_available"], admit["fix_grace_days"]) == (True, 14)
    events = AuditEvent.objects.filter(kind="config")
    assert not [e for e in events if "deprecated" in e.data]


def test_an_old_key_still_applies_with_a_warning_printed_and_audited(tmp_path):
    text = "admission_policies:\n  - name: old-fixes\n    fixable_for_days: 14\n"
    out, err = run_both(write(tmp_path, text))

    warning = (
        "remediator.yaml:3: admission_policies[0].fixable_for_days: deprecated: write "
        "fix_available: true and fix_grace_days: 14 instead (the same condition)"
    )
    assert err.strip() == f"warning: {warning}"
    assert out.splitlines()[-1] == "created 1, updated 0, unchanged 0"
    policy = AdmissionPolicy.objects.get(name="old-fixes")
    assert (policy.fix_available, policy.fix_grace_days) == (True, 14)
    event = AuditEvent.objects.get(kind="config", object_type="admissionpolicy")
    assert event.data["deprecated"] == [warning]

    new = text.replace("fixable_for_days: 14", "fix_available: true\n    fix_grace_days: 14")
    out, err = run_both(write(tmp_path, new))
    assert out.splitlines()[-1] == "created 0, updated 0, unchanged 1" and err == ""


def test_an_old_key_given_with_its_new_name_is_a_problem(tmp_path):
    text = "policies:\n  - name: p\n    action: notify\n    fixable_for_days: 3\n"
    text += "    fix_grace_days: 3\n"
    message = problems(tmp_path, text)

    assert (
        "remediator.yaml:4: policies[0].fixable_for_days: the old name of fix_available and "
        "fix_grace_days: give one or the other"
    ) in message
    assert not Policy.objects.filter(name="p").exists()


def test_an_empty_old_key_sets_no_condition(tmp_path):
    text = "admission_policies:\n  - name: any\n    fixable_for_days:\n"
    _, err = run_both(write(tmp_path, text))

    assert "fixable_for_days: deprecated: leave it out (empty, it sets no condition)" in err
    policy = AdmissionPolicy.objects.get(name="any")
    assert (policy.fix_available, policy.fix_grace_days) == (None, 0)
