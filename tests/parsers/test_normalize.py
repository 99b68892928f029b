from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from findings.parsers.base import ParsedFinding
from findings.parsers.normalize import (
    merge_findings,
    package_type_from_purl,
    package_type_from_trivy,
    parse_datetime,
    split_versions,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ()),
        ("", ()),
        ("   ", ()),
        ("1.2.3", ("1.2.3",)),
        ("7.23.2, 8.0.0-alpha.4", ("7.23.2", "8.0.0-alpha.4")),
        ("6.0.3.1, 5.2.4.3, 6.0.3.1", ("6.0.3.1", "5.2.4.3")),
        (",1.0,,", ("1.0",)),
        (["1.2.3", "1.2.3", " 2.0 "], ("1.2.3", "2.0")),
        (["1.0, 1.1", None, 3], ("1.0", "1.1", "3")),
        ({"not": "versions"}, ()),
    ],
)
def test_split_versions(value: object, expected: tuple[str, ...]) -> None:
    assert split_versions(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-08-25T12:20:30.000000005Z", datetime(2021, 8, 25, 12, 20, 30, tzinfo=UTC)),
        ("2020-01-01T00:00:00.000000000Z", datetime(2020, 1, 1, tzinfo=UTC)),
        (
            "2024-12-26T21:58:15.943876+05:30",
            datetime(2024, 12, 26, 16, 28, 15, 943876, tzinfo=UTC),
        ),
        ("2023-04-03T06:12:47Z", datetime(2023, 4, 3, 6, 12, 47, tzinfo=UTC)),
        ("2023-10-12", datetime(2023, 10, 12, tzinfo=UTC)),
        (
            {"seconds": 1567784942, "nanos": 28041437},
            datetime(2019, 9, 6, 15, 49, 2, 28041, tzinfo=UTC),
        ),
        ({"seconds": 1567784942}, datetime(2019, 9, 6, 15, 49, 2, tzinfo=UTC)),
        (1680502375, datetime(2023, 4, 3, 6, 12, 55, tzinfo=UTC)),
        ("1680502375", datetime(2023, 4, 3, 6, 12, 55, tzinfo=UTC)),
    ],
)
def test_parse_datetime_gives_aware_utc(value: object, expected: datetime) -> None:
    result = parse_datetime(value)
    assert result == expected
    assert result is not None and result.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "yesterday",
        "2023-13-45",
        {"nanos": 5},
        {"seconds": "x"},
        [],
        True,
        10**20,
        "0001-01-01T00:00:00Z",
    ],
)
def test_parse_datetime_rejects_garbage(value: object) -> None:
    assert parse_datetime(value) is None


def test_parse_datetime_keeps_the_instant_of_an_offset() -> None:
    local = datetime(2024, 1, 1, 5, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert parse_datetime(local.isoformat()) == datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("purl", "expected"),
    [
        ("pkg:apk/alpine/musl@1.1.20-r4?arch=x86_64&distro=3.9.4", "apk"),
        ("pkg:deb/ubuntu/bash@4.4.18-2ubuntu1.2?arch=amd64", "deb"),
        ("pkg:rpm/photon/curl@7.61.1-4.ph3", "rpm"),
        ("pkg:npm/jquery@3.3.9", "npm"),
        ("pkg:npm/%40babel/traverse@7.22.15", "npm"),
        ("pkg:pypi/django@5.2", "pypi"),
        ("pkg:maven/org.apache.commons/commons-compress@1.14", "maven"),
        ("pkg:gem/activesupport@6.0.2.1", "gem"),
        ("pkg:golang/github.com/x/y@v1.0.0", "golang"),
        ("pkg:cargo/serde@1.0.0", "cargo"),
        ("pkg:composer/laravel/framework@10.0.0", "composer"),
        ("pkg:nuget/Newtonsoft.Json@13.0.1", "nuget"),
        ("pkg:conan/zlib@1.2.13", "conan"),
        ("pkg:hex/phoenix@1.7.0", "hex"),
        ("pkg:pub/http@1.0.0", "pub"),
        ("pkg:swift/github.com/apple/swift-nio@2.0.0", "swift"),
        ("pkg:cocoapods/AFNetworking@4.0.1", "cocoapods"),
        ("pkg:oci/debian@sha256%3A244fd47e07d10", "oci"),
        ("pkg:bitbucket/birkenfeld/pygments-main@244fd47e07d1", "bitbucket"),
        ("not a purl", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_package_type_from_purl(purl: object, expected: str) -> None:
    assert package_type_from_purl(purl) == expected


@pytest.mark.parametrize(
    ("result_type", "expected"),
    [
        ("alpine", "apk"),
        ("wolfi", "apk"),
        ("chainguard", "apk"),
        ("debian", "deb"),
        ("ubuntu", "deb"),
        ("centos", "rpm"),
        ("redhat", "rpm"),
        ("rocky", "rpm"),
        ("alma", "rpm"),
        ("amazon", "rpm"),
        ("oracle", "rpm"),
        ("photon", "rpm"),
        ("fedora", "rpm"),
        ("suse", "rpm"),
        ("opensuse", "rpm"),
        ("slem", "rpm"),
        ("sles", "rpm"),
        ("cbl-mariner", "rpm"),
        ("azurelinux", "rpm"),
        ("npm", "npm"),
        ("yarn", "npm"),
        ("pnpm", "npm"),
        ("node-pkg", "npm"),
        ("pip", "pypi"),
        ("pipenv", "pypi"),
        ("poetry", "pypi"),
        ("python-pkg", "pypi"),
        ("uv", "pypi"),
        ("jar", "maven"),
        ("pom", "maven"),
        ("gradle", "maven"),
        ("sbt", "maven"),
        ("gemspec", "gem"),
        ("bundler", "gem"),
        ("gobinary", "golang"),
        ("gomod", "golang"),
        ("cargo", "cargo"),
        ("rustbinary", "cargo"),
        ("composer", "composer"),
        ("nuget", "nuget"),
        ("dotnet-core", "nuget"),
        ("packages-props", "nuget"),
        ("Alpine", "apk"),
        ("conda-pkg", "conda-pkg"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_package_type_from_trivy(result_type: object, expected: str) -> None:
    assert package_type_from_trivy(result_type) == expected


def _finding(**overrides: object) -> ParsedFinding:
    base: dict[str, object] = {
        "vulnerability_id": "CVE-2023-45133",
        "package": "@babel/traverse",
        "installed_version": "7.22.15",
    }
    return ParsedFinding(**{**base, **overrides})  # type: ignore[arg-type]


def test_same_cve_at_two_paths_is_one_finding_with_two_locations() -> None:
    merged = merge_findings(
        [
            _finding(locations=("/app/node_modules/@babel/traverse",)),
            _finding(locations=("/app/node_modules/x/node_modules/@babel/traverse",)),
            _finding(locations=("/app/node_modules/@babel/traverse",)),
        ]
    )
    assert len(merged) == 1
    assert merged[0].locations == (
        "/app/node_modules/@babel/traverse",
        "/app/node_modules/x/node_modules/@babel/traverse",
    )


def test_merge_unions_fixed_versions_and_links_in_order() -> None:
    merged = merge_findings(
        [
            _finding(fixed_versions=("7.23.2",), links=("https://a",)),
            _finding(fixed_versions=("8.0.0-alpha.4", "7.23.2"), links=("https://b", "https://a")),
        ]
    )
    assert merged[0].fixed_versions == ("7.23.2", "8.0.0-alpha.4")
    assert merged[0].links == ("https://a", "https://b")


def test_merge_keeps_worst_severity_and_highest_score_with_its_vector() -> None:
    merged = merge_findings(
        [
            _finding(severity="medium", cvss_score=5.0, cvss_vector="v-low"),
            _finding(severity="unknown", cvss_score=None),
            _finding(severity="high", cvss_score=8.8, cvss_vector="v-high"),
            _finding(severity="low", cvss_score=3.1, cvss_vector="v-lowest"),
        ]
    )
    assert merged[0].severity == "high"
    assert (merged[0].cvss_score, merged[0].cvss_vector) == (8.8, "v-high")


def test_merge_keeps_first_non_empty_text_fields() -> None:
    merged = merge_findings(
        [
            _finding(title="", description="first", package_type="unknown"),
            _finding(
                title="title", description="second", package_type="npm", vendor_status="fixed"
            ),
        ]
    )
    finding = merged[0]
    assert (finding.title, finding.description) == ("title", "first")
    assert (finding.package_type, finding.vendor_status) == ("npm", "fixed")


def test_different_versions_or_packages_stay_separate_in_first_seen_order() -> None:
    merged = merge_findings(
        [
            _finding(installed_version="2"),
            _finding(package="other"),
            _finding(installed_version="2", locations=("x",)),
            _finding(vulnerability_id="CVE-1"),
        ]
    )
    assert [f.key for f in merged] == [
        ("CVE-2023-45133", "@babel/traverse", "2"),
        ("CVE-2023-45133", "other", "7.22.15"),
        ("CVE-1", "@babel/traverse", "7.22.15"),
    ]


def test_merge_of_nothing_is_empty() -> None:
    assert merge_findings([]) == ()


def _merged_by_key(findings: list[ParsedFinding]) -> tuple[ParsedFinding, ...]:
    """The plain statement of a merge: a dict keyed by the whole key, in first-seen order."""
    merged: dict[tuple[str, str, str], ParsedFinding] = {}
    for finding in findings:
        merged[finding.key] = (
            finding
            if finding.key not in merged
            else merge_findings([merged[finding.key], finding])[0]
        )
    return tuple(merged.values())


def test_interleaved_ids_packages_and_versions_merge_as_keyed_by_the_whole_key() -> None:
    findings = [
        _finding(
            vulnerability_id=f"CVE-{i % 5}",
            package=f"p{i % 3}",
            installed_version=f"{i % 2}",
            locations=(f"/l{i}",),
            severity=("low", "high", "medium")[i % 3],
        )
        for i in range(90)
    ]
    merged = merge_findings(findings)
    assert merged == _merged_by_key(findings)
    assert len(merged) == 30
    assert [f.key for f in merged][:3] == [
        ("CVE-0", "p0", "0"),
        ("CVE-1", "p1", "1"),
        ("CVE-2", "p2", "0"),
    ]
    assert merged[0].locations == tuple(f"/l{i}" for i in range(0, 90, 30))


def test_one_id_in_many_packages_merges_in_one_pass() -> None:
    findings = [_finding(package=f"p{i % 20_000}") for i in range(40_000)]
    merged = merge_findings(findings)
    assert [f.package for f in merged] == [f"p{i}" for i in range(20_000)]
