"""A report that says its scan failed or is partial is parsed with ``failure`` set."""

from __future__ import annotations

import json

import pytest

from findings.parsers import parse
from findings.parsers.base import ParsedScan

from ..conftest import FIXTURES


def fixture(path: str) -> dict:
    return json.loads((FIXTURES / path).read_text())


def test_real_successful_reports_carry_no_failure():
    assert parse("aqua", fixture("aqua/dd_one_v2_api_v1_scan_result.json")).failure == ""
    assert parse("aqua", fixture("aqua/dd_over_api_v2_empty.json")).failure == ""
    assert parse("generic", {"status": "Success", "findings": []}).failure == ""


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"status": "Failed"}, "status is 'Failed'"),
        ({"errorMsg": "registry unreachable"}, "registry unreachable"),
    ],
)
def test_aqua_scan_result_that_failed(change, expected):
    document = {**fixture("aqua/dd_one_v2_api_v1_scan_result.json"), **change}
    assert expected in parse("aqua", document).failure


def test_aqua_partial_data_is_no_evidence():
    document = {**fixture("aqua/dd_over_api_v2_empty.json"), "is_partial_data": True}
    assert "partial" in parse("aqua", document).failure


@pytest.mark.parametrize("status", ["Failed", "error", "ERRORED", "aborted", "partial"])
def test_generic_status_that_failed(status):
    assert status in parse("generic", {"status": status, "findings": []}).failure


@pytest.mark.parametrize(
    "source, scanner, key",
    [("trivy", "Trivy 0.56.2", "trivy:trivy"), ("harbor", "Clair v2.1", "harbor:clair"),
     ("generic", "", "generic"), ("aqua", "Aqua", "aqua:aqua")],
)  # fmt: skip
def test_scanner_key_drops_the_version(source, scanner, key):
    assert ParsedScan(source=source, image=None, scanner=scanner).scanner_key == key
