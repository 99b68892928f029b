"""Which OS package manager a stage has: from its RUN lines, else its base image."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .parse import ParsedDockerfile, Stage
from .shell import program, simple_commands

NO_MANAGER = "none"
"""distroless, scratch, ubi-micro: nothing to install packages with."""

_PROGRAMS = {
    "apt-get": "apt",
    "apt": "apt",
    "apk": "apk",
    "dnf": "dnf",
    "microdnf": "microdnf",
    "yum": "yum",
}
_DEBIAN_TAGS = re.compile(
    r"(slim|bookworm|bullseye|buster|stretch|trixie|jammy|noble|focal|bionic|xenial|debian|ubuntu)"
)
# Official images whose non-alpine variants are Debian (or Ubuntu) based.
_DEBIAN_BASED = {
    "debian", "ubuntu", "python", "node", "golang", "ruby", "php", "perl", "rust", "openjdk",
    "eclipse-temurin", "buildpack-deps", "nginx", "httpd", "postgres", "redis", "gcc", "maven",
    "gradle", "mysql", "mariadb", "elixir", "erlang", "haskell", "julia", "r-base", "pypy",
}  # fmt: skip
_RHEL = {"fedora", "rockylinux", "rocky", "almalinux", "alma", "centos", "oraclelinux", "rhel"}


@dataclass(frozen=True)
class Distro:
    manager: str
    """apt | apk | dnf | yum | microdnf | none | '' (unknown)."""
    source: str
    """How we know: 'RUN lines' or the image reference."""


def detect_distro(dockerfile: ParsedDockerfile, stage: Stage) -> Distro:
    """The stage's package manager, from the last one its RUN lines (or its FROM
    chain's) use, else from the base image's name."""
    current: Stage | None = stage
    while current is not None:
        found = ""
        for instruction in current.instructions:
            for words in simple_commands(dockerfile, instruction):
                found = _PROGRAMS.get(program(words), found)
        if found:
            return Distro(found, "RUN lines")
        current = dockerfile.parent(current)
    image = dockerfile.base_image(stage)
    return Distro(manager_for_image(image), image)


def manager_for_image(reference: str) -> str:
    """Package manager of a well-known base image, '' when we cannot tell."""
    reference = reference.split("@", 1)[0].lower()
    path, _, tag = reference.rpartition(":") if ":" in reference.rsplit("/", 1)[-1] else (
        reference, "", "",
    )  # fmt: skip
    name = path.rsplit("/", 1)[-1]
    if path == "scratch" or "distroless" in path or name.endswith("-micro") or name == "static":
        return NO_MANAGER
    if "alpine" in name or "alpine" in tag or "wolfi" in path:
        return "apk"
    if name.startswith("ubi") or name in _RHEL or name == "amazonlinux":
        if "minimal" in name or "minimal" in tag:
            return "microdnf"
        return _rhel_manager(name, tag)
    if name in _DEBIAN_BASED or _DEBIAN_TAGS.search(tag):
        return "apt"
    return ""


def _rhel_manager(name: str, tag: str) -> str:
    major = re.match(r"\D*(\d+)", tag)
    version = int(major.group(1)) if major else None
    if name == "centos" and version is not None and version <= 7:
        return "yum"
    if name == "oraclelinux" and version is not None and version <= 7:
        return "yum"
    if name == "amazonlinux" and version is not None and version < 2022:
        return "yum"  # Amazon Linux 1 (2018.03) and 2; 2023 has dnf
    return "dnf"
