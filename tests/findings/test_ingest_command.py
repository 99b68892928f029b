from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from findings.models import Delivery, Finding, Scan

from ..conftest import FIXTURES

pytestmark = pytest.mark.django_db


def run_ingest(*args: str) -> dict:
    out = io.StringIO()
    call_command("ingest", *args, stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1, "exactly one JSON line"
    return json.loads(lines[0])


def test_ingest_prints_one_json_line_with_the_scan_summary():
    path = FIXTURES / "trivy" / "trivy_docs_reporting_alpine_latest.json"
    summary = run_ingest(str(path))

    assert summary["findings"] == 2 and summary["new"] == 2
    assert summary["image"] == (
        "docker.io/library/alpine:latest"
        "@sha256:1e42bbe2508154c9126d48c2b8a75420c3544343bf86fd041fb7527e017a4b4a"
    )
    assert set(summary) == {
        "delivery",
        "scan",
        "image",
        "findings",
        "new",
        "fixed",
        "reopened",
        "refused",
    }
    crypto = Finding.objects.get(package="libcrypto3")
    assert (crypto.severity, crypto.fixed_version) == ("low", "3.3.2-r1")


def test_same_file_again_is_new_zero_and_same_scan():
    path = str(FIXTURES / "aqua" / "dd_vulns_with_aqua_severity.json")
    first = run_ingest("--source", "aqua", path)
    again = run_ingest("--source", "aqua", path)

    assert again["new"] == 0 and again["scan"] == first["scan"]
    assert Scan.objects.count() == 1 and Delivery.objects.count() == 1


def test_image_option_names_the_image_of_a_report_that_names_none():
    path = str(FIXTURES / "trivy" / "dd_issue_9333_debian.json")
    summary = run_ingest("--image", "registry.example.com/base/debian:10", path)

    assert summary["image"] == "registry.example.com/base/debian:10"
    assert summary["findings"] == 13
    assert Scan.objects.get().tag.repository.registry == "registry.example.com"


def test_report_without_image_and_no_option_exits_2_and_keeps_the_body(capsys):
    path = str(FIXTURES / "trivy" / "dd_issue_9333_debian.json")
    with pytest.raises(SystemExit) as exit_info:
        call_command("ingest", path)

    assert exit_info.value.code == 2
    delivery = Delivery.objects.get()
    assert delivery.status == "rejected" and "names no image" in delivery.error
    assert delivery.body == (FIXTURES / "trivy" / "dd_issue_9333_debian.json").read_bytes()
    assert Scan.objects.count() == 0 and Finding.objects.count() == 0


def test_malformed_json_on_stdin_exits_2_with_one_line_naming_the_problem(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b'{"Results": [')))
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("ingest", "-", stderr=err)

    assert exit_info.value.code == 2
    message = err.getvalue().strip()
    assert len(message.splitlines()) == 1 and "not JSON" in message
    assert Delivery.objects.get().status == "rejected"


def test_unreadable_file_exits_2_like_any_unusable_input(tmp_path):
    with pytest.raises(CommandError) as failure:
        call_command("ingest", str(tmp_path / "missing.json"))

    assert failure.value.returncode == 2
    assert "cannot read" in str(failure.value)
    assert Delivery.objects.count() == 0
