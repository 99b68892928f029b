"""Package ecosystems (our ``package_type``) from purls and scanner type names."""

from __future__ import annotations

import re
import sys

from packageurl import PackageURL

# purl types whose name differs from our ecosystem slug; others map to themselves.
_PURL_ALIASES = {
    "go": "golang",
    "pip": "pypi",
    "python": "pypi",
    "rubygems": "gem",
    "crates": "cargo",
    "packagist": "composer",
    "docker": "oci",
    "alpine": "apk",
    "debian": "deb",
    "dotnet": "nuget",
}

_TRIVY_TYPES: dict[str, tuple[str, ...]] = {
    "apk": ("alpine", "wolfi", "chainguard", "minimos"),
    "deb": ("debian", "ubuntu", "echo"),
    "rpm": (
        "centos",
        "redhat",
        "rhel",
        "rocky",
        "alma",
        "amazon",
        "oracle",
        "photon",
        "fedora",
        "suse",
        "opensuse",
        "opensuse.leap",
        "opensuse.tumbleweed",
        "opensuse-leap",
        "opensuse-tumbleweed",
        "slem",
        "sles",
        "slmicro",
        "cbl-mariner",
        "mariner",
        "azurelinux",
    ),
    "npm": ("npm", "yarn", "pnpm", "node-pkg", "bun", "javascript", "nodejs"),
    "pypi": ("pip", "pipenv", "poetry", "python-pkg", "uv", "python", "pypi"),
    "maven": ("jar", "pom", "gradle", "sbt", "java", "java-archive", "maven", "war", "ear"),
    "gem": ("gemspec", "bundler", "rubygems", "gem", "ruby"),
    "golang": ("gobinary", "gomod", "go", "golang", "go-module"),
    "cargo": ("cargo", "rustbinary", "rust-binary", "rust", "rust-crate"),
    "composer": ("composer", "composer-vendor", "php", "php-composer"),
    "nuget": ("nuget", "dotnet-core", "packages-props", "dotnet", "dotnet-deps"),
    "conan": ("conan",),
    "hex": ("hex", "mix-lock", "mix", "elixir"),
    "pub": ("pub", "dart"),
    "swift": ("swift",),
    "cocoapods": ("cocoapods",),
}
_TYPE_TO_ECOSYSTEM = {name: eco for eco, names in _TRIVY_TYPES.items() for name in names}


_QUICK_TYPE = re.compile(r"pkg:([A-Za-z][A-Za-z0-9.+-]*)/[^\x00\s]+@[^\x00\s]+\Z")
"""A well-formed package URL: 'pkg:' type '/' name '@' version, nothing odd in it."""


def package_type_from_purl(purl: object) -> str:
    """Ecosystem of a package URL: 'pkg:apk/alpine/musl@1' -> 'apk'; 'unknown' if unparsable."""
    if not isinstance(purl, str) or not purl.strip():
        return "unknown"
    quick = _QUICK_TYPE.match(purl)
    if quick is not None:  # the common case, without packageurl's full parse
        kind = quick.group(1).lower()
        return _PURL_ALIASES.get(kind) or sys.intern(kind)  # one object per ecosystem
    try:
        kind = PackageURL.from_string(purl.strip().replace("\x00", "")).type
    except (ValueError, TypeError):
        return "unknown"
    kind = (kind or "").lower()
    return _PURL_ALIASES.get(kind, kind) or "unknown"


def package_type_from_trivy(result_type: object) -> str:
    """Ecosystem of a Trivy ``Results[].Type`` (also Aqua formats, Grype types)."""
    if not isinstance(result_type, str) or not result_type.strip():
        return "unknown"
    kind = result_type.strip().lower()
    return _TYPE_TO_ECOSYSTEM.get(kind, kind)
