"""Package URLs as Trivy writes them, so that its VEX matching finds ours. Pure.

The canonical string form is packageurl-go v0.1.6's (Trivy's dependency): namespace
segments, name and version percent-encode every byte but the path-segment-safe set
(unreserved, the sub-delimiters but '+', and ':'); qualifier values every byte but
``[A-Za-z0-9-._~:]`` (so '/' is ``%2F``), keys sorted.

- An image is ``pkg:oci/<name>@<digest>?repository_url=<registry>/<path>`` (Trivy's
  ``purl.parseOCI``): the name is the last path segment, lowercased; Docker Hub is
  ``index.docker.io``, the name go-containerregistry gives it.
- A package follows Trivy's per-ecosystem rules (``pkg/purl/purl.go``): deb/apk/rpm
  take the OS family as namespace (rpm: SUSE's families are ``suse``/``opensuse``), apk
  and golang and npm names are lowercased, pypi names lowercased with '_' as '-',
  maven/composer/golang/npm split the namespace at the last '/' (maven's ':' first).
  No qualifiers are written: a qualifier in a statement must also be in what Trivy
  computes (arch, distro, epoch), and an absent one matches any.
"""

from __future__ import annotations

import re

DOCKER_HUB = "index.docker.io"
DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})

_SEGMENT_SAFE = frozenset(
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*,;=:"
)
_QUALIFIER_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:")

OS_PURL_TYPES = {"deb": "deb", "apk": "apk", "rpm": "rpm"}
"""Our package_type -> purl type, for OS packages."""
LANGUAGE_PURL_TYPES = {
    "npm": "npm",
    "pypi": "pypi",
    "maven": "maven",
    "golang": "golang",
    "gem": "gem",
    "cargo": "cargo",
    "composer": "composer",
    "nuget": "nuget",
    "conan": "conan",
    "hex": "hex",
    "pub": "pub",
    "swift": "swift",
}
"""Our package_type -> purl type, for language packages (the others are left out)."""

# Trivy's OS families (pkg/fanal/types/const.go), longest first so that a family with a
# space ("suse linux enterprise server") is found before a shorter one.
_OS_FAMILIES = sorted(
    [
        "alpine",
        "wolfi",
        "chainguard",
        "minimos",
        "debian",
        "ubuntu",
        "echo",
        "redhat",
        "centos",
        "rocky",
        "alma",
        "amazon",
        "oracle",
        "fedora",
        "photon",
        "cbl-mariner",
        "azurelinux",
        "opensuse",
        "opensuse.leap",
        "opensuse.tumbleweed",
        "opensuse-leap",
        "opensuse-tumbleweed",
        "suse linux enterprise server",
        "suse linux enterprise micro",
        "sles",
        "slem",
        "coreos",
    ],
    key=len,
    reverse=True,
)
_RPM_NAMESPACES = {
    "suse linux enterprise server": "suse",
    "suse linux enterprise micro": "suse",
    "sles": "suse",
    "slem": "suse",
    "opensuse.leap": "opensuse",
    "opensuse.tumbleweed": "opensuse",
    "opensuse-leap": "opensuse",
    "opensuse-tumbleweed": "opensuse",
}
_EPOCH = re.compile(r"\A[0-9]+:")


def _encode(text: str, safe: frozenset[int]) -> str:
    return "".join(chr(byte) if byte in safe else f"%{byte:02X}" for byte in text.encode("utf-8"))


def purl_string(
    kind: str, namespace: str, name: str, version: str = "", qualifiers: dict | None = None
) -> str:
    """The canonical string of a purl, as packageurl-go v0.1.6's ``ToString``."""
    out = ["pkg:", kind]
    for segment in namespace.split("/"):
        if segment:
            out += ["/", _encode(segment, _SEGMENT_SAFE)]
    out += ["/", _encode(name, _SEGMENT_SAFE)]
    if version:
        out += ["@", _encode(version, _SEGMENT_SAFE)]
    pairs = sorted((k, v) for k, v in (qualifiers or {}).items() if v)
    if pairs:
        out.append("?")
        out.append(
            "&".join(
                f"{_encode(k, _QUALIFIER_SAFE)}={_encode(v, _QUALIFIER_SAFE)}" for k, v in pairs
            )
        )
    return "".join(out)


def repository_url(registry: str, name: str) -> str:
    """``<registry>/<path>`` as go-containerregistry names it (Docker Hub:
    ``index.docker.io``)."""
    host = registry.lower()
    if host in DOCKER_HUB_ALIASES:
        host = DOCKER_HUB
    return f"{host}/{name}"


def oci_purl(registry: str, name: str, digest: str = "") -> str:
    """An image's purl (``digest`` as its version), or its repository's without one: the
    form Trivy looks up in a VEX repository's index."""
    short = name.lower().rsplit("/", 1)[-1]
    return purl_string("oci", "", short, digest, {"repository_url": repository_url(registry, name)})


def os_family(os: str) -> str:
    """The OS family of a scan's ``os`` ("debian 12.4" -> "debian"), '' if unknown."""
    text = os.strip().lower()
    for family in _OS_FAMILIES:
        if text == family or text.startswith(family + " "):
            return family
    return ""


def _split_last(name: str) -> tuple[str, str]:
    namespace, _, last = name.rpartition("/")
    return namespace, last


def _os_version(version: str) -> str:
    """Trivy's purl version of an OS package: the epoch moves to a qualifier."""
    return _EPOCH.sub("", version, count=1)


def package_purl(*, package: str, version: str, package_type: str, os: str = "") -> str | None:
    """The purl Trivy computes for a package (without qualifiers), or None when it
    cannot be built reliably: an unknown ecosystem, an OS package without a known OS
    family, a local Go path."""
    if not package or any(ord(c) < 0x20 for c in package + version):
        return None
    if package_type in OS_PURL_TYPES:
        family = os_family(os)
        if not family:
            return None
        kind = OS_PURL_TYPES[package_type]
        name = package.lower() if kind == "apk" else package
        namespace = _RPM_NAMESPACES.get(family, family) if kind == "rpm" else family
        return purl_string(kind, namespace.lower(), name, _os_version(version))
    kind = LANGUAGE_PURL_TYPES.get(package_type)
    if kind is None:
        return None
    namespace, name = "", package
    if kind == "maven":
        namespace, name = _split_last(package.replace(":", "/"))
    elif kind == "pypi":
        name = package.replace("_", "-").lower()
    elif kind == "golang":
        if package.startswith(("./", "../")):
            return None
        namespace, name = _split_last(package.lower())
    elif kind == "npm":
        namespace, name = _split_last(package.lower())
    elif kind in ("composer", "swift"):
        namespace, name = _split_last(package)
    if not name:
        return None
    return purl_string(kind, namespace, name, version)
