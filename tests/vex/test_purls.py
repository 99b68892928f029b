"""Package URLs as Trivy computes them. The expected values are Trivy's own test cases
(aquasecurity/trivy pkg/purl/purl_test.go, TestNewPackageURL, at
dc3c56eed58ab21c7e08d26757c517bc946a86c5), written as packageurl-go v0.1.6 prints them
and without qualifiers (Remediator writes none: see remediator/engine/vex/purls.py)."""

from __future__ import annotations

import pytest

from remediator.engine.vex.purls import oci_purl, os_family, package_purl, purl_string

from .trivy_rules import purl_matches, repository_url_of, root_purl


@pytest.mark.parametrize(
    ("package", "version", "package_type", "os", "expected"),
    [
        # "maven package": org.springframework:spring-core
        (
            "org.springframework:spring-core",
            "5.3.14",
            "maven",
            "",
            "pkg:maven/org.springframework/spring-core@5.3.14",
        ),
        # "sbt package"
        (
            "org.typelevel:cats-core_2.12",
            "2.9.0",
            "maven",
            "",
            "pkg:maven/org.typelevel/cats-core_2.12@2.9.0",
        ),
        # "yarn package": a scope is the namespace
        ("@xtuc/ieee754", "1.2.0", "npm", "", "pkg:npm/%40xtuc/ieee754@1.2.0"),
        # "yarn package with non-namespace"
        ("lodash", "4.17.21", "npm", "", "pkg:npm/lodash@4.17.21"),
        # "pypi package": lowercased, '_' as '-'
        ("Django_test", "1.2.0", "pypi", "", "pkg:pypi/django-test@1.2.0"),
        # "composer package"
        ("symfony/contracts", "v1.0.2", "composer", "", "pkg:composer/symfony/contracts@v1.0.2"),
        # "golang package": the module path lowercased, split at the last '/'
        (
            "github.com/go-sql-driver/Mysql",
            "v1.5.0",
            "golang",
            "",
            "pkg:golang/github.com/go-sql-driver/mysql@v1.5.0",
        ),
        # "rust binary"
        ("abomination", "0.7.3", "cargo", "", "pkg:cargo/abomination@0.7.3"),
        # "dotnet Packages.props"
        ("Newtonsoft.Json", "9.0.1", "nuget", "", "pkg:nuget/Newtonsoft.Json@9.0.1"),
        # "hex package", "dart package"
        ("bunt", "0.2.0", "hex", "", "pkg:hex/bunt@0.2.0"),
        ("http", "0.13.2", "pub", "", "pkg:pub/http@0.13.2"),
        # "swift package"
        (
            "github.com/apple/swift-atomics",
            "1.1.0",
            "swift",
            "",
            "pkg:swift/github.com/apple/swift-atomics@1.1.0",
        ),
        # "os package": redhat 8, epoch 1 moves to a qualifier, the version keeps the release
        ("acl", "1:2.2.53-1.el8", "rpm", "redhat 8", "pkg:rpm/redhat/acl@2.2.53-1.el8"),
        # apk: namespace from the OS family, as the fixture report's PkgIdentifier.PURL
        ("libcrypto3", "3.3.2-r0", "apk", "alpine 3.20.3", "pkg:apk/alpine/libcrypto3@3.3.2-r0"),
        # deb: "+" encoded; an epoch (bsdutils) leaves the version as FormatVersion does
        ("libc6", "2.36-9+deb12u4", "deb", "debian 12.4", "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4"),
        (
            "bsdutils",
            "1:2.38.1-5+b1",
            "deb",
            "debian 12.4",
            "pkg:deb/debian/bsdutils@2.38.1-5%2Bb1",
        ),
        # SUSE's families share the namespace "suse" (OSType.PurlNamespace)
        (
            "libzypp",
            "17.31.0",
            "rpm",
            "suse linux enterprise server 15.4",
            "pkg:rpm/suse/libzypp@17.31.0",
        ),
    ],
)
def test_package_purls_are_trivys(package, version, package_type, os, expected):
    assert (
        package_purl(package=package, version=version, package_type=package_type, os=os) == expected
    )


@pytest.mark.parametrize(
    ("package", "package_type", "os"),
    [
        # "golang package with a local path": Trivy builds none
        ("./private_repos/cnrm.googlesource.com/cnrm/", "golang", ""),
        # an ecosystem Remediator does not know
        ("thing", "unknown", ""),
        # an OS package without a known OS family: the namespace would be a guess
        ("openssl", "apk", ""),
        ("openssl", "deb", "plan9 4"),
    ],
)
def test_no_purl_when_it_cannot_be_built_reliably(package, package_type, os):
    assert package_purl(package=package, version="1", package_type=package_type, os=os) is None


def test_os_family_knows_families_with_spaces():
    assert os_family("suse linux enterprise server 15.4") == "suse linux enterprise server"
    assert os_family("debian 12.4") == "debian"
    assert os_family("Alpine 3.20.3") == "alpine"
    assert os_family("") == ""


# Trivy's "container" and "container with implicit registry" cases (TestNewPackageURL).
def test_image_purl_as_trivys_container_case():
    digest = "sha256:8fe1727132b2506c17ba0e1f6a6ed8a016bb1f5735e43b2738cd3fd1979b6260"
    ours = oci_purl("cblmariner2preview.azurecr.io", "base/core", digest)
    assert ours == (
        f"pkg:oci/core@{digest}?repository_url=cblmariner2preview.azurecr.io%2Fbase%2Fcore"
    )
    trivys = root_purl(
        {
            "RepoDigests": [f"cblmariner2preview.azurecr.io/base/core@{digest}"],
            "ImageConfig": {"architecture": "amd64"},
        }
    )
    assert trivys == f"{ours.replace('?', '?arch=amd64&')}"
    assert purl_matches(ours, trivys)


def test_docker_hub_is_index_docker_io_as_go_containerregistry_names_it():
    digest = "sha256:8fe1727132b2506c17ba0e1f6a6ed8a016bb1f5735e43b2738cd3fd1979b6260"
    expected = f"pkg:oci/alpine@{digest}?repository_url=index.docker.io%2Flibrary%2Falpine"
    for registry in ("docker.io", "registry-1.docker.io", "index.docker.io"):
        assert oci_purl(registry, "library/alpine", digest) == expected
    assert repository_url_of(f"alpine:3.14@{digest}") == "index.docker.io/library/alpine"
    assert oci_purl("docker.io", "library/alpine") == (
        "pkg:oci/alpine?repository_url=index.docker.io%2Flibrary%2Falpine"
    )


def test_encoding_follows_packageurl_go():
    # qualifier values: every byte but [A-Za-z0-9-._~:]; path segments keep ':' and
    # sub-delimiters but '+'; '@' and '/' inside a segment are encoded
    assert purl_string("oci", "", "App", "sha256:ab", {"repository_url": "r.io:5000/a b"}) == (
        "pkg:oci/App@sha256:ab?repository_url=r.io:5000%2Fa%20b"
    )
    assert purl_string("npm", "@s", "n+m", "1.0+x") == "pkg:npm/%40s/n%2Bm@1.0%2Bx"
    assert (
        purl_string("deb", "debian", "x", "1:2", {"z": "", "a": "1"}) == "pkg:deb/debian/x@1:2?a=1"
    )
