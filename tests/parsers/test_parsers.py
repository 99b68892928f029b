"""Behaviour of each parser beyond the fixture table, and wrong-shape errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from findings.parsers import PARSERS, ParseError, aqua, generic, grype, harbor, trivy

from .conftest import fixture_document

V40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
HEX = "97a847b2a0230e01116e00d8b988a4d150b49ee2662032456ab5c46e39ccba1d"


# --- wrong shapes: each parser names itself, what it expected and what it found ---


@pytest.mark.parametrize(
    ("slug", "document", "pattern"),
    [
        ("aqua", "text", r"^aqua: expected an object or a list.*found a string$"),
        ("aqua", None, r"^aqua: expected .* found null$"),
        ("aqua", {"matches": []}, r"^aqua: expected an object with 'resources'.*found an object"),
        (
            "aqua",
            {"resources": "oops"},
            r"^aqua: expected 'resources' to be a list, found a string",
        ),
        ("aqua", [1], r"^aqua: expected list items .* found a number$"),
        ("trivy", "text", r"^trivy: expected an object with 'Results' or a legacy list"),
        ("trivy", {"Results": {"a": 1}}, r"^trivy: expected 'Results' to be a list"),
        ("trivy", {"foo": 1}, r"^trivy: expected an object with 'SchemaVersion'"),
        ("trivy", [{"x": 1}], r"^trivy: expected a legacy list of .* found an object"),
        ("grype", [], r"^grype: expected an object with 'matches', found an empty list$"),
        ("grype", [1], r"^grype: expected an object with 'matches', found a list$"),
        ("grype", {"matches": "x"}, r"^grype: expected 'matches' to be a list, found a string$"),
        ("harbor", [], r"^harbor: expected a vulnerability report"),
        ("harbor", {"vulnerabilities": []}, r"^harbor: expected a vulnerability report"),
        (
            "harbor",
            {
                "application/vnd.security.vulnerability.report; version=1.1": {
                    "vulnerabilities": "x"
                }
            },
            r"^harbor: expected 'vulnerabilities' to be a list",
        ),
        ("generic", {"scanId": 1}, r"^generic: expected an object with a 'findings' list"),
        ("generic", {"findings": {}}, r"^generic: expected 'findings' to be a list"),
        ("generic", 3.5, r"^generic: .* found a number$"),
    ],
)
def test_wrong_shape_raises_a_helpful_parse_error(
    slug: str, document: object, pattern: str
) -> None:
    with pytest.raises(ParseError, match=pattern):
        PARSERS[slug](document)


@pytest.mark.parametrize(
    "name",
    [
        "docs_scanning_completed_default.json",
        "docs_scanning_failed_cloudevents.json",
        "zulip_scanning_failed.json",
    ],
)
def test_harbor_webhook_event_is_refused_by_the_report_parser(name: str) -> None:
    with pytest.raises(
        ParseError, match=r"^harbor: this is a webhook event \((SCANNING_|harbor\.)"
    ):
        harbor.parse(fixture_document("harbor", name))


# --- Aqua ---


def test_aqua_empty_object_and_empty_list_are_empty_scans() -> None:
    for document in ({}, []):
        scan = aqua.parse(document)
        assert (scan.findings, scan.image) == ((), None)


def test_aqua_registry_is_an_integration_name_kept_in_extra_not_a_host() -> None:
    scan = aqua.parse({"image": "library/photon:3.0", "registry": "Docker Hub", "resources": []})
    assert scan.image is not None and scan.image.registry == "docker.io"
    assert scan.extra["aqua_registry"] == "Docker Hub"


def test_aqua_pull_name_wins_over_image_and_bare_digest_gets_prefix() -> None:
    scan = aqua.parse(
        {
            "image": "library/photon:3.0",
            "pull_name": "core.harbor.domain/library/photon:3.0",
            "digest": HEX,
            "resources": [],
        }
    )
    assert str(scan.image) == f"core.harbor.domain/library/photon:3.0@sha256:{HEX}"


def test_aqua_severity_falls_back_from_aqua_to_vendor_to_nvd_to_score() -> None:
    def severity(vuln: dict[str, object]) -> str:
        doc = {
            "resources": [
                {
                    "resource": {"name": "p", "version": "1"},
                    "vulnerabilities": [{"name": "CVE-1", **vuln}],
                }
            ]
        }
        return aqua.parse(doc).findings[0].severity

    assert severity({"aqua_severity": "high", "nvd_severity_v3": "critical"}) == "high"
    assert severity({"vendor_severity": "unimportant", "nvd_severity_v3": "high"}) == "negligible"
    assert severity({"nvd_severity_v3": "critical", "nvd_severity": "high"}) == "critical"
    assert severity({"nvd_severity": "low"}) == "low"
    assert severity({"nvd_score_v3": 7.0}) == "high"
    assert severity({"nvd_vectors_v3": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H"}) == "high"


def test_aqua_devops_duplicates_at_two_paths_merge() -> None:
    vuln = {"name": "CVE-2023-45133", "aqua_severity": "high", "fix_version": "7.23.2"}
    resources = [
        {
            "resource": {
                "format": "npm",
                "name": "@babel/traverse",
                "version": "7.22.15",
                "path": path,
            },
            "vulnerabilities": [vuln],
        }
        for path in ("/a/node_modules/@babel/traverse", "/b/node_modules/@babel/traverse")
    ]
    scan = aqua.parse([{"image_name": "test:latest", "results": {"resources": resources}}])
    assert len(scan.findings) == 1
    assert scan.findings[0].locations == (
        "/a/node_modules/@babel/traverse",
        "/b/node_modules/@babel/traverse",
    )
    assert str(scan.image) == "docker.io/library/test:latest"


def test_aqua_api_v2_rows_use_nvd_cvss3_fields_and_row_image() -> None:
    row = {
        "name": "CVE-2019-14697",
        "aqua_severity": "",
        "nvd_cvss3_severity": "critical",
        "nvd_cvss3_score": 9.8,
        "nvd_cvss3_vectors": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "fix_version": "1.1.20-r5",
        "resource": {"format": "apk", "name": "musl", "version": "1.1.20-r4", "type": "package"},
        "image_name": "alpine:3.9",
        "image_digest": f"sha256:{HEX}",
        "registry": "Docker Hub",
        "os": "alpine",
        "os_version": "3.9.4",
    }
    scan = aqua.parse({"count": 2, "page": 1, "result": [row, row]})
    (finding,) = scan.findings
    assert (finding.severity, finding.cvss_score, finding.package_type) == ("critical", 9.8, "apk")
    assert str(scan.image) == f"docker.io/library/alpine:3.9@sha256:{HEX}"
    assert scan.os == "alpine 3.9.4"


def test_aqua_fix_version_prose_keeps_only_version_tokens() -> None:
    doc = fixture_document("aqua", "dd_many_vulns.json")
    finding = next(f for f in aqua.parse(doc).findings if f.vulnerability_id == "CVE-2014-0054")
    assert finding.fixed_versions == ("3.2.8", "4.0.2")


def test_aqua_scan_identity_and_disallowed_flag() -> None:
    scan = aqua.parse(fixture_document("aqua", "dd_one_vuln.json"))
    assert scan.scanned_at == datetime(2019, 9, 6, 15, 49, 2, 28041, tzinfo=UTC)
    assert scan.extra["disallowed"] is True
    assert scan.os == "alpine 3.9.4"
    devops = aqua.parse(fixture_document("aqua", "dd_issue_10849_devops.json"))
    assert devops.scan_id == "1060"


def test_aqua_entries_without_a_vulnerability_id_are_skipped() -> None:
    scan = aqua.parse({"cves": [{"name": None, "file": "x"}, "junk", {"name": "CVE-1"}]})
    assert [f.vulnerability_id for f in scan.findings] == ["CVE-1"]


# --- Trivy ---


def test_trivy_null_document_is_an_empty_scan_without_image() -> None:
    assert trivy.parse(None).findings == ()
    assert trivy.parse(None).image is None


def test_trivy_identity_fields() -> None:
    scan = trivy.parse(fixture_document("trivy", "trivy_alpine-39.json"))
    assert scan.scanner == "Trivy dev"
    assert scan.scan_id == "017b7d41-e09f-7000-80ea-000000000001"
    assert scan.scanned_at == datetime(2021, 8, 25, 12, 20, 30, tzinfo=UTC)
    assert scan.os == "alpine 3.9.4"
    # ImageID is the config digest: kept aside, never used as the image digest.
    assert scan.image is not None and scan.image.digest == ""
    assert scan.extra["image_id"].startswith("sha256:055936d3")


def test_trivy_cvss_comes_from_the_severity_source_v3() -> None:
    scan = trivy.parse(fixture_document("trivy", "trivy_alpine-39.json"))
    finding = next(f for f in scan.findings if f.key[:2] == ("CVE-2019-1549", "libcrypto1.1"))
    assert finding.cvss_score == 5.3  # CVSS.nvd.V3Score (SeveritySource nvd), not redhat's 4.8
    assert finding.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"
    assert finding.links[0] == "https://avd.aquasec.com/nvd/cve-2019-1549"


def _trivy_doc(*results: dict[str, object], **top: object) -> dict[str, object]:
    return {"SchemaVersion": 2, "ArtifactType": "container_image", **top, "Results": list(results)}


def test_trivy_same_cve_in_two_results_is_one_finding_with_two_locations() -> None:
    vuln = {
        "VulnerabilityID": "CVE-2022-1",
        "PkgName": "lodash",
        "InstalledVersion": "4.17.4",
        "Severity": "HIGH",
        "FixedVersion": "4.17.21",
    }
    doc = _trivy_doc(
        {"Target": "app/package-lock.json", "Type": "npm", "Vulnerabilities": [vuln]},
        {
            "Target": "web/package-lock.json",
            "Type": "npm",
            "Vulnerabilities": [{**vuln, "FixedVersion": "4.17.21, 5.0.0", "Severity": "CRITICAL"}],
        },
    )
    (finding,) = trivy.parse(doc).findings
    assert finding.locations == ("app/package-lock.json", "web/package-lock.json")
    assert finding.fixed_versions == ("4.17.21", "5.0.0")
    assert finding.severity == "critical"


def test_trivy_archive_artifact_name_is_not_an_image() -> None:
    for name in ("testdata/alpine.tar", "/tmp/img.tar.gz", "./img", "alpine.tgz"):
        assert trivy.parse(_trivy_doc(ArtifactName=name)).image is None
    assert str(trivy.parse(_trivy_doc(ArtifactName="nginx:1.25")).image) == (
        "docker.io/library/nginx:1.25"
    )


def test_trivy_repo_digest_wins_and_skips_empty_entries() -> None:
    doc = _trivy_doc(
        ArtifactName="x:1",
        Metadata={
            "RepoTags": ["", "ghcr.io/org/app:2.0"],
            "RepoDigests": ["", f"ghcr.io/org/app@sha256:{HEX}"],
        },
    )
    assert str(trivy.parse(doc).image) == f"ghcr.io/org/app:2.0@sha256:{HEX}"


def test_trivy_purl_wins_over_result_type_and_v40_is_used_without_v3() -> None:
    vuln = {
        "VulnerabilityID": "CVE-9",
        "PkgName": "p",
        "InstalledVersion": "1",
        "PkgIdentifier": {"PURL": "pkg:pypi/p@1"},
        "SeveritySource": "ghsa",
        "CVSS": {"ghsa": {"V40Vector": V40}},
    }
    (finding,) = trivy.parse(
        _trivy_doc({"Target": "t", "Type": "jar", "Vulnerabilities": [vuln]})
    ).findings
    assert finding.package_type == "pypi"
    assert finding.cvss_score == 9.3
    assert finding.severity == "unknown"


def test_trivy_result_without_vulnerabilities_and_vuln_without_id_are_skipped() -> None:
    doc = fixture_document("trivy", "dd_legacy_trivy_mix.json")
    scan = trivy.parse(doc)
    assert "simplito/elliptic-php" not in {f.package for f in scan.findings}


# --- Harbor ---


def test_harbor_bare_inner_report_is_accepted() -> None:
    inner = {
        "generated_at": "2023-04-03T06:12:47Z",
        "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "v0.37.2"},
        "vulnerabilities": [
            {
                "id": "CVE-1",
                "package": "openssl",
                "version": "3.0.1",
                "fix_version": "",
                "severity": "Critical",
                "preferred_cvss": {
                    "score_v3": None,
                    "vector_v3": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                },
            },
        ],
    }
    scan = harbor.parse(inner)
    (finding,) = scan.findings
    assert (finding.severity, finding.fixed_versions, finding.cvss_score) == ("critical", (), 9.8)
    assert scan.scanner == "Trivy v0.37.2"
    assert scan.image is None


def test_harbor_report_metadata() -> None:
    scan = harbor.parse(fixture_document("harbor", "dd_harbor_report_clair_5.json"))
    assert scan.scanner == "Clair 2.x"
    assert scan.scanned_at == datetime(2020, 1, 1, tzinfo=UTC)


# --- Grype ---


def test_grype_redacted_image_gives_no_image_but_keeps_manifest_digest() -> None:
    scan = grype.parse(fixture_document("grype", "dd_grype_fix_available.json"))
    assert scan.image is None
    assert scan.extra["manifest_digest"].startswith("sha256:4e1c5380")
    assert (scan.scanner, scan.os) == ("grype 0.75.0", "ubuntu 20.04")


def test_grype_takes_highest_v3_score_then_related_vulnerabilities() -> None:
    def match(cvss: list[object], related: list[object]) -> dict[str, object]:
        return {
            "vulnerability": {"id": "CVE-1", "severity": "High", "cvss": cvss},
            "relatedVulnerabilities": related,
            "artifact": {"name": "a", "version": "1", "purl": "pkg:deb/debian/a@1"},
        }

    v2 = {"version": "2.0", "vector": "AV:N/AC:L/Au:N/C:C/I:C/A:C", "metrics": {"baseScore": 10.0}}
    v3 = {"version": "3.1", "vector": "CVSS:3.1/x", "metrics": {"baseScore": 6.5}}
    v3b = {"version": "3.0", "vector": "CVSS:3.0/y", "metrics": {"baseScore": 7.2}}
    scan = grype.parse({"matches": [match([v2, v3, v3b], [])], "source": {}})
    assert (scan.findings[0].cvss_score, scan.findings[0].cvss_vector) == (7.2, "CVSS:3.0/y")
    assert scan.findings[0].package_type == "deb"
    scan = grype.parse({"matches": [match([], [{"id": "CVE-1", "cvss": [v3]}])], "source": {}})
    assert scan.findings[0].cvss_score == 6.5


# --- Generic ---


def test_generic_payload_with_tag_override_and_digest() -> None:
    scan = generic.parse(
        {
            "scanId": "s-1",
            "imageName": "registry.example.com/team/app:old",
            "tag": "1.2",
            "digest": HEX,
            "status": "Success",
            "findings": [
                {
                    "id": "CVE-1",
                    "severity": "Critical",
                    "package": "openssl",
                    "version": "3.0.1",
                    "description": "d",
                    "fixedVersion": "3.0.2, 3.1.0",
                    "packageType": "debian",
                    "cvss": 9.8,
                    "links": ["https://x"],
                    "title": "t",
                },
                {"id": "", "package": "skipped"},
                "not an object",
            ],
        }
    )
    assert str(scan.image) == f"registry.example.com/team/app:1.2@sha256:{HEX}"
    assert (scan.scan_id, scan.extra["status"]) == ("s-1", "Success")
    (finding,) = scan.findings
    assert finding.fixed_versions == ("3.0.2", "3.1.0")
    assert (finding.package_type, finding.severity, finding.cvss_score) == ("deb", "critical", 9.8)
    assert (finding.title, finding.links) == ("t", ("https://x",))


def test_generic_without_image_fields_has_no_image() -> None:
    scan = generic.parse({"findings": [{"id": "CVE-1", "package": "p", "version": "1"}]})
    assert scan.image is None
    assert scan.findings[0].severity == "unknown"
