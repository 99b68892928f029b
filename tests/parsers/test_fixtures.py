"""One table over every report fixture: distinct-finding count plus hand-picked
values read from the raw JSON (not from parser output)."""

from __future__ import annotations

from typing import Any

import pytest

from findings.parsers import parse
from findings.parsers.base import ParsedFinding

from .conftest import fixture_document, report_paths

# (slug, file, distinct findings, image or None,
#  (vulnerability_id, package, installed_version) or None, expected finding fields)
CASES: list[tuple[str, str, int, str | None, tuple[str, str, str] | None, dict[str, Any]]] = [
    # --- Aqua ---
    ("aqua", "dd_api_v1_missing_fields.json", 1, None,
     ("CVE-2023-0003", "", ""), {"severity": "high", "cvss_score": 8.1}),
    ("aqua", "dd_cicd_missing_resource_fields.json", 2, None,
     ("CVE-2023-0005", "busybox", "1.30.1"),
     {"package_type": "apk", "severity": "medium", "cvss_score": 5.5}),
    ("aqua", "dd_empty_aquadevops.json", 0, None, None, {}),
    ("aqua", "dd_issue_10585_vulns_null.json", 0,
     "docker.io/library/your_image:latest"
     "@sha256:54bc57e4e876533bc61ba7bf229f0f9f96d137b787614c3d0d5c70c3578fe867",
     None, {}),
    ("aqua", "dd_issue_10849_devops.json", 1,
     "docker.io/library/test:latest"
     "@sha256:97a847b2a0230e01116e00d8b988a4d150b49ee2662032456ab5c46e39ccba1d",
     ("CVE-2023-45133", "@babel/traverse", "7.22.15"),
     {"package_type": "npm", "severity": "high", "cvss_score": 8.8,
      "fixed_versions": ("7.23.2", "8.0.0-alpha.4"),
      "locations": ("/juice-shop/node_modules/@babel/traverse",
                    "sha256:69c661528fdd4ef0a0f4fdbd62ec988b9efb5c1a4d11651adb877a13a40da37d")}),
    ("aqua", "dd_many_v2_api_v1_scan_result.json", 3, "docker.io/library/example:latest",
     ("CVE-2019-10086", "/usr/share/java/commons-beanutils-1.9.3.jar", ""),
     {"severity": "high", "cvss_score": 7.5, "fixed_versions": ("1.9.4",)}),
    ("aqua", "dd_many_vulns.json", 24,
     "docker.io/library/your_image:latest"
     "@sha256:54bc57e4e876533bc61ba7bf229f0f9f96d137b787614c3d0d5c70c3578fe867",
     ("CVE-2013-2099", "/usr/lib/python2.7/ssl.py", ""),
     {"package_type": "file", "severity": "medium",
      "fixed_versions": ("3.3.2-r1", "3.2.5-r1", "2.6.8", "2.7.3-r1")}),
    ("aqua", "dd_no_vuln_empty_object.json", 0, None, None, {}),
    ("aqua", "dd_one_v2_api_v1_scan_result.json", 1, "docker.io/library/example:latest",
     ("CVE-2019-15601", "curl", ""),
     {"severity": "medium", "cvss_score": 5.0, "fixed_versions": ("7.68.0",)}),
    ("aqua", "dd_one_vuln.json", 1,
     "docker.io/library/your_image:latest"
     "@sha256:45bc57e4e876533bc61ba7bf229f0f9f96d137b787614c3d0d5c70c3578fe867",
     ("CVE-2019-14697", "musl", "1.1.20-r4"),
     {"package_type": "apk", "severity": "high", "cvss_score": 7.5,
      "fixed_versions": ("1.1.20-r5",)}),
    ("aqua", "dd_over_api_v2_empty.json", 0, None, None, {}),
    ("aqua", "dd_vulns_with_aqua_severity.json", 13,
     "myexamplerepoeuwinfra.azurecr.io/mycontainer:1.0.15"
     "@sha256:f6b3fa0fada0e5929ff453f24dd4cca9f8e50c85009468aef29e24c8198d1511",
     ("CVE-2018-10237", "/BOOT-INF/lib/guava-20.0.jar", "20.0.0"),
     {"package_type": "maven", "severity": "medium", "fixed_versions": ("24.1.1-android",)}),
    ("aqua", "postee_aqua_input.json", 5,
     "registry.aquasec.com/all-in-one:3.5.19223"
     "@sha256:45388de11cfbf5c5d9e2e1418dfeac221c57cfffa1e2fffa833ac283ed029ecf",
     ("CVE-2019-5747", "busybox", "1.28.4-r3"),
     {"package_type": "apk", "severity": "negligible", "fixed_versions": ()}),
    ("aqua", "starboard_aqua_csp_webhook_photon_fixture.json", 3,
     "core.harbor.domain/library/photon:3.0-20200202"
     "@sha256:9bf8e3dfef5c248bc8880d228241887a1f411b0d2700150e3eeb6ad8c5763df2",
     ("CVE-2019-9169", "glibc", "2.28"),
     {"package_type": "binary", "severity": "critical", "cvss_score": 9.8}),
    ("aqua", "seed_blog_simplified_payload.json", 1, None,
     ("CVE-2023-1234", "openssl", "1.1.1t-1ubuntu1.3"),
     {"severity": "critical", "fixed_versions": ("1.1.1u-1ubuntu1.4",)}),
    # --- Trivy ---
    ("trivy", "dd_issue_9333_debian.json", 13, None,
     ("CVE-2011-3374", "apt", "1.8.2.3"),
     {"package_type": "deb", "severity": "low", "vendor_status": "affected",
      "fixed_versions": ()}),
    ("trivy", "dd_legacy_many_vulns.json", 93, None,
     ("CVE-2018-12886", "gcc-8-base", "8.3.0-6"),
     {"package_type": "deb", "severity": "high", "fixed_versions": ()}),
    ("trivy", "dd_legacy_no_vuln_null.json", 0, None, None, {}),
    ("trivy", "dd_legacy_trivy_mix.json", 6, None,
     ("CVE-2018-16487", "lodash", "4.17.4"),
     {"package_type": "npm", "severity": "high", "fixed_versions": (">=4.17.11",),
      "locations": ("node-app/package-lock.json",)}),
    ("trivy", "dd_scheme_2_many_vulns.json", 5, "docker.io/library/teamdojo:latest",
     ("CVE-2018-11771", "org.apache.commons:commons-compress", "1.14"),
     {"package_type": "maven", "severity": "medium", "fixed_versions": ("1.18",),
      "locations": ("app/libs/commons-compress-1.14",)}),
    ("trivy", "dd_scheme_2_no_vuln.json", 0, "docker.io/library/trivy-unittest:latest", None, {}),
    ("trivy", "trivy_alpine-39-skip_no_results.json", 0,
     "ghcr.io/aquasecurity/trivy-test-images:alpine-39", None, {}),
    ("trivy", "trivy_alpine-39.json", 6, "ghcr.io/aquasecurity/trivy-test-images:alpine-39",
     ("CVE-2019-14697", "musl", "1.1.20-r4"),
     {"package_type": "apk", "severity": "critical", "vendor_status": "fixed",
      "fixed_versions": ("1.1.20-r5",)}),
    ("trivy", "trivy_amazon-2.json", 2, "ghcr.io/aquasecurity/trivy-test-images:amazon-2",
     ("CVE-2019-5481", "curl", "7.61.1-9.amzn2.0.1"),
     {"package_type": "rpm", "severity": "medium", "fixed_versions": ("7.61.1-12.amzn2.0.1",)}),
    ("trivy", "trivy_centos-6_eol.json", 2, "ghcr.io/aquasecurity/trivy-test-images:centos-6",
     ("CVE-2020-29573", "glibc", "2.12-1.212.el6"),
     {"package_type": "rpm", "severity": "medium", "vendor_status": "end_of_life",
      "fixed_versions": ()}),
    ("trivy", "trivy_docs_reporting_alpine_latest.json", 2,
     "docker.io/library/alpine:latest"
     "@sha256:1e42bbe2508154c9126d48c2b8a75420c3544343bf86fd041fb7527e017a4b4a",
     ("CVE-2024-9143", "libssl3", "3.3.2-r0"),
     {"package_type": "apk", "severity": "low", "fixed_versions": ("3.3.2-r1",)}),
    ("trivy", "trivy_fluentd-gems.json", 2,
     "ghcr.io/aquasecurity/trivy-test-images:fluentd-multiple-lockfiles",
     ("CVE-2020-8165", "activesupport", "6.0.2.1"),
     {"package_type": "gem", "severity": "high", "fixed_versions": ("6.0.3.1", "5.2.4.3"),
      "locations": ("var/lib/gems/2.5.0/specifications/activesupport-6.0.2.1.gemspec",)}),
    ("trivy", "trivy_npm_repo.json", 1, None,
     ("CVE-2019-11358", "jquery", "3.3.9"),
     {"package_type": "npm", "severity": "medium", "fixed_versions": ("3.4.0",)}),
    ("trivy", "trivy_photon-30.json", 3, "ghcr.io/aquasecurity/trivy-test-images:photon-30",
     ("CVE-2019-5481", "curl-libs", "7.61.1-4.ph3"),
     {"package_type": "rpm", "severity": "critical", "fixed_versions": ("7.61.1-5.ph3",)}),
    ("trivy", "trivy_sl-micro-rancher_zero_vulns.json", 0,
     "ghcr.io/aquasecurity/trivy-test-images:sle-micro-rancher-5.4_ndb", None, {}),
    ("trivy", "trivy_ubuntu-1804.json", 5, "ghcr.io/aquasecurity/trivy-test-images:ubuntu-1804",
     ("CVE-2019-18276", "bash", "4.4.18-2ubuntu1.2"),
     {"package_type": "deb", "severity": "low", "vendor_status": "affected"}),
    # --- Harbor (reports only; webhook events are refused, see test_parsers) ---
    ("harbor", "dd_harbor_report_0_vuln_null.json", 0, None, None, {}),
    ("harbor", "dd_harbor_report_clair_5.json", 5, None,
     ("CVE-YYYY-001", "package-1", "exploitable-version-1"),
     {"package_type": "unknown", "severity": "negligible",
      "fixed_versions": ("unexploitable-version-1",),
      "links": ("https://github.com/goharbor/harbor",)}),
    # --- Grype (image names REDACTED upstream -> no image) ---
    ("grype", "dd_grype_fix_available.json", 1, None,
     ("CVE-2009-3882", "java", "17.0.10+7-J-ms8m"),  # NUL byte in the raw version is dropped
     {"package_type": "binary", "severity": "high", "fixed_versions": ("1.2.3",),
      "cvss_score": 7.5, "locations": ("/opt/java/openjdk/bin/java",)}),
    ("grype", "dd_grype_fix_not_available.json", 1, None,
     ("CVE-2009-3882", "java", "17.0.10+7-J-ms8m"),
     {"severity": "high", "fixed_versions": ()}),
    ("grype", "dd_grype_no_vuln.json", 0,
     "docker.io/library/busybox:latest"
     "@sha256:6bea45f4e050ffdbb3a0f57a6c6f16318314a482f31442c4461a72a3ee2f3ee6",
     None, {}),
]  # fmt: skip


def _find(findings: tuple[ParsedFinding, ...], key: tuple[str, str, str]) -> ParsedFinding:
    matches = [f for f in findings if f.key == key]
    assert len(matches) == 1, f"expected exactly one finding {key}, got {len(matches)}"
    return matches[0]


@pytest.mark.parametrize(
    ("slug", "name", "count", "image", "key", "fields"),
    [pytest.param(*case, id=f"{case[0]}/{case[1]}") for case in CASES],
)
def test_report_fixture_parses_to_expected_findings(
    slug: str,
    name: str,
    count: int,
    image: str | None,
    key: tuple[str, str, str] | None,
    fields: dict[str, Any],
) -> None:
    scan = parse(slug, fixture_document(slug, name))

    assert scan.source == slug
    assert len(scan.findings) == count
    assert len({f.key for f in scan.findings}) == count
    assert (str(scan.image) if scan.image else None) == image
    if key is not None:
        finding = _find(scan.findings, key)
        for field, expected in fields.items():
            assert getattr(finding, field) == expected, field


def test_table_covers_every_report_fixture() -> None:
    on_disk = {
        (path.parent.name, path.name)
        for path in report_paths()
        if not path.name.startswith(("docs_scanning_", "zulip_scanning_"))
    }
    assert on_disk == {(case[0], case[1]) for case in CASES}
