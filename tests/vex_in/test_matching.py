"""Which statement speaks of which finding: a table of cases, no database."""

from __future__ import annotations

import pytest

from findings.vex.matching import FindingTarget, statement_matches

DIGEST = "sha256:" + "1" * 64
OTHER = "sha256:" + "2" * 64
BUSYBOX = FindingTarget(
    vulnerability_id="CVE-2023-42363",
    repository="docker.io/aquasec/trivy",
    digests=frozenset({DIGEST}),
    package="busybox",
    installed_version="1.36.1-r2",
    package_type="apk",
)
TRIVY = "pkg:oci/trivy?repository_url=index.docker.io%2Faquasec%2Ftrivy"


def product(id_: str, *subs: str) -> dict:
    return {"id": id_, "subcomponents": list(subs)}


CASES = [
    # (name, ids, products, target, expected)
    (
        "repository_url and a subcomponent",
        ["CVE-2023-42363"],
        [product(TRIVY, "pkg:apk/alpine/busybox")],
        BUSYBOX,
        True,
    ),
    (
        "docker hub hosts are one registry",
        ["CVE-2023-42363"],
        [
            product(
                "pkg:oci/trivy?repository_url=registry-1.docker.io/aquasec/trivy",
                "pkg:apk/alpine/busybox",
            )
        ],
        BUSYBOX,
        True,
    ),
    (
        "another repository",
        ["CVE-2023-42363"],
        [
            product(
                "pkg:oci/trivy?repository_url=ghcr.io/aquasecurity/trivy", "pkg:apk/alpine/busybox"
            )
        ],
        BUSYBOX,
        False,
    ),
    (
        "the image matches, the subcomponent does not",
        ["CVE-2023-42363"],
        [product(TRIVY, "pkg:apk/alpine/ssl_client")],
        BUSYBOX,
        False,
    ),
    (
        "another vulnerability",
        ["CVE-2023-42364"],
        [product(TRIVY, "pkg:apk/alpine/busybox")],
        BUSYBOX,
        False,
    ),
    (
        "an alias names it, ignoring case",
        ["GHSA-xxxx", "cve-2023-42363"],
        [product(TRIVY)],
        BUSYBOX,
        True,
    ),
    ("the image alone: every package of it", ["CVE-2023-42363"], [product(TRIVY)], BUSYBOX, True),
    (
        "a digest the tag stream had",
        ["CVE-2023-42363"],
        [product(f"pkg:oci/trivy@{DIGEST.replace(':', '%3A')}")],
        BUSYBOX,
        True,
    ),
    (
        "a digest it never had",
        ["CVE-2023-42363"],
        [product(f"pkg:oci/trivy@{OTHER.replace(':', '%3A')}")],
        BUSYBOX,
        False,
    ),
    (
        "a digest with another repository_url",
        ["CVE-2023-42363"],
        [product(f"pkg:oci/trivy@{DIGEST}?repository_url=quay.io/x/trivy")],
        BUSYBOX,
        False,
    ),
    (
        "pkg:oci naming no registry matches nothing",
        ["CVE-2023-42363"],
        [product("pkg:oci/trivy", "pkg:apk/alpine/busybox")],
        BUSYBOX,
        False,
    ),
    (
        "a package purl without a version",
        ["CVE-2023-42363"],
        [product("pkg:apk/alpine/busybox")],
        BUSYBOX,
        True,
    ),
    (
        "a package purl with the installed version",
        ["CVE-2023-42363"],
        [product("pkg:apk/alpine/busybox@1.36.1-r2?arch=x86_64")],
        BUSYBOX,
        True,
    ),
    (
        "a package purl with another version",
        ["CVE-2023-42363"],
        [product("pkg:apk/alpine/busybox@1.36.1-r5")],
        BUSYBOX,
        False,
    ),
    ("another ecosystem", ["CVE-2023-42363"], [product("pkg:deb/debian/busybox")], BUSYBOX, False),
    (
        "a package product with subcomponents names a path not recorded",
        ["CVE-2023-42363"],
        [product("pkg:apk/alpine/busybox", "pkg:apk/alpine/musl")],
        BUSYBOX,
        False,
    ),
    (
        "one product of several",
        ["CVE-2023-42363"],
        [product("pkg:npm/left-pad"), product(TRIVY, "pkg:apk/alpine/busybox")],
        BUSYBOX,
        True,
    ),
    ("not a purl", ["CVE-2023-42363"], [product("product-ABC")], BUSYBOX, False),
]
GO = FindingTarget(
    vulnerability_id="CVE-2024-0001",
    repository="ghcr.io/acme/api",
    digests=frozenset(),
    package="github.com/aquasecurity/go-transitive",
    installed_version="v4.0.0",
    package_type="golang",
)
DEB = FindingTarget(
    vulnerability_id="CVE-2022-3715",
    repository="docker.io/library/debian",
    digests=frozenset(),
    package="bash",
    installed_version="1:5.2.15-2",
    package_type="deb",
)
MAVEN = FindingTarget(
    vulnerability_id="CVE-2021-44228",
    repository="docker.io/acme/app",
    digests=frozenset(),
    package="org.springframework.boot:spring-boot",
    installed_version="2.6.0",
    package_type="unknown",
)
CASES += [
    (
        "a Go module's namespace is part of its name",
        ["CVE-2024-0001"],
        [product("pkg:golang/github.com/aquasecurity/go-transitive@v4.0.0")],
        GO,
        True,
    ),
    (
        "a deb epoch qualifier",
        ["CVE-2022-3715"],
        [product("pkg:deb/debian/bash@5.2.15-2?epoch=1")],
        DEB,
        True,
    ),
    (
        "a deb version without the installed epoch is another version",
        ["CVE-2022-3715"],
        [product("pkg:deb/debian/bash@5.2.15-2")],
        DEB,
        False,
    ),
    (
        "maven group:artifact, ecosystem unknown to the scanner",
        ["CVE-2021-44228"],
        [product("pkg:maven/org.springframework.boot/spring-boot@2.6.0")],
        MAVEN,
        True,
    ),
]


@pytest.mark.parametrize(
    ("name", "ids", "products", "target", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_statement_matches(name, ids, products, target, expected):
    assert statement_matches(ids, products, target) is expected
