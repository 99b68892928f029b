"""manage.py admission_check: the webhook's answer for CI gates."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from remediator.engine.models import AdmissionPolicy, AuditEvent

pytestmark = pytest.mark.django_db


def _check(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("admission_check", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_a_denied_image_exits_non_zero_naming_the_cve_and_the_action(vulnerable, enforce_critical):
    code, out, _ = _check("alpine:3.10")
    assert code == 1
    assert "CVE-2024-6119" in out and f"rebuild #{vulnerable['action'].pk}" in out
    assert AuditEvent.objects.get(kind="admission").actor_label == "cli:admission_check"


def test_an_allowed_image_exits_zero_and_warnings_go_to_stderr(vulnerable):
    AdmissionPolicy.objects.create(name="warn", mode="warn")
    code, out, err = _check("nginx", "--namespace", "prod")
    assert code == 0 and out.startswith("warn")
    assert "CVE-2023-44487" in err


def test_the_namespace_and_json_output(vulnerable):
    AdmissionPolicy.objects.create(name="prod", namespace_glob="prod-*")
    assert _check("alpine:3.10", "--namespace", "dev")[0] == 0
    code, out, _ = _check("alpine:3.10", "--namespace", "prod-1", "--json")
    assert code == 1 and json.loads(out)["vulnerabilities"] == ["CVE-2024-6119"]
