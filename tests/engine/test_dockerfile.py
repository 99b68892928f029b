"""Dockerfile patches: applied with `git apply`, read back with BuildKit's own
parser (the `dockerfile` package), shell checked with `bash -n`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import dockerfile as buildkit
import pytest

from findings.ingest import scan_ingest
from findings.models import Finding
from remediator.engine.dockerfile import PackageFix, dockerfile_patch, patch_for_findings
from tests.findings.factories import ALPINE, delivery, finding, report

FIXTURES = Path(__file__).parent.parent / "fixtures" / "dockerfiles"


def read(name: str) -> str:
    return (FIXTURES / name).read_text()


def apply(text: str, diff: str, tmp_path: Path) -> str:
    """The Dockerfile after `git apply` of the diff (which must apply cleanly)."""
    (tmp_path / "Dockerfile").write_text(text)
    if diff:
        subprocess.run(
            ["git", "apply", "--verbose", "-"], input=diff, text=True, cwd=tmp_path, check=True
        )
    return (tmp_path / "Dockerfile").read_text()


def stages(text: str) -> list[list[buildkit.Command]]:
    out: list[list[buildkit.Command]] = []
    for command in buildkit.parse_string(text):
        if command.cmd == "FROM":
            out.append([])
        if out:  # global ARGs come before the first FROM
            out[-1].append(command)
    return out


def runs(stage: list[buildkit.Command]) -> list[str]:
    """Each RUN's shell text, after checking `bash -n` accepts it."""
    texts = [c.value[0] for c in stage if c.cmd == "RUN" and not c.json]
    for text in texts:
        subprocess.run(["bash", "-n", "-c", text], check=True)
    return texts


def patched(name: str, fixes: list[PackageFix], tmp_path: Path):
    original = read(name)
    patch = dockerfile_patch(dockerfile=original, findings=fixes)
    new = apply(original, patch.diff, tmp_path)
    assert dockerfile_patch(dockerfile=new, findings=fixes).diff == "", "not idempotent"
    return patch, new


def deb(name: str, fixed: str, installed: str = "1.0-1") -> PackageFix:
    return PackageFix(name, installed, fixed, "deb")


def test_debian_pins_existing_install_and_adds_one_run_for_the_rest(tmp_path):
    fixes = [
        deb("curl", "7.88.1-10+deb12u5"),
        deb("openssl", "3.0.11-1~deb12u2"),
        deb("libssl3", "3.0.11-1~deb12u2"),
    ]
    patch, new = patched("debian.Dockerfile", fixes, tmp_path)

    assert patch.diff.startswith("--- a/Dockerfile\n+++ b/Dockerfile\n")
    assert "        curl=7.88.1-10+deb12u5 \\\n" in new
    [final] = stages(new)
    commands = runs(final)
    assert commands[1] == (
        "apt-get update     && apt-get install -y --no-install-recommends         "
        "libssl3=3.0.11-1~deb12u2         openssl=3.0.11-1~deb12u2     "
        "&& rm -rf /var/lib/apt/lists/*"
    )
    # The new RUN comes right after the existing apt-get RUN, before WORKDIR.
    assert [c.cmd for c in final] == ["FROM", "ENV", "RUN", "RUN", "WORKDIR", "COPY", "CMD"]
    assert len(patch.changes) == 2
    assert patch.warnings == []


def test_debian_replaces_another_pin_and_warns_it_differed_from_the_scan(tmp_path):
    text = "FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y zlib1g=1:1.2.11\n"
    fix = deb("zlib1g", "1:1.2.11.dfsg-2ubuntu9.2", installed="1:1.2.11.dfsg-2ubuntu9")
    patch = dockerfile_patch(dockerfile=text, findings=[fix])
    new = apply(text, patch.diff, tmp_path)

    assert new.endswith("apt-get install -y zlib1g=1:1.2.11.dfsg-2ubuntu9.2\n")
    assert "pinned to 1:1.2.11" in patch.warnings[0]
    assert "RUN apt-get update &&" in new and new.count("RUN") == 1


def test_alpine_asks_apk_for_at_least_the_fixed_version(tmp_path):
    fixes = [
        PackageFix("busybox-extras", "1.36.1-r15", "1.36.1-r16", "apk"),
        PackageFix("libcrypto3", "3.1.4-r2", "3.1.4-r5", "apk"),
    ]
    patch, new = patched("alpine.Dockerfile", fixes, tmp_path)
    assert patch.changes[1] == "added RUN apk for libcrypto3 after line 2 (final stage)"

    [final] = stages(new)
    commands = runs(final)
    assert commands[0] == "apk add --no-cache ca-certificates 'busybox-extras>=1.36.1-r16'"
    assert commands[1] == "apk add --no-cache --upgrade         'libcrypto3>=3.1.4-r5'"
    assert [c.cmd for c in final][:4] == ["FROM", "RUN", "RUN", "RUN"]
    assert final[3].value == ("adduser -D app",)


def test_ubi9_uses_dnf_with_epoch_stripped_nevra_pins(tmp_path):
    fixes = [
        PackageFix("openssl", "1:3.0.7-24.el9", "1:3.0.7-25.el9_3", "rpm"),
        PackageFix("python3.11", "3.11.2-1.el9", "3.11.5-1.el9_3", "rpm"),
    ]
    _, new = patched("ubi9.Dockerfile", fixes, tmp_path)

    [final] = stages(new)
    commands = runs(final)
    assert "dnf install -y --setopt=install_weak_deps=0 python3.11-3.11.5-1.el9_3" in commands[0]
    assert commands[1] == "dnf upgrade -y         openssl-3.0.7-25.el9_3     && dnf clean all"
    assert [c.cmd for c in final] == ["FROM", "RUN", "RUN", "USER", "CMD"]


def test_ubi9_minimal_uses_microdnf_update_and_explains_it_cannot_pin(tmp_path):
    fixes = [
        PackageFix("openssl", "1:3.0.7-24.el9", "1:3.0.7-25.el9_3", "rpm"),
        PackageFix("shadow-utils", "2:4.9-8.el9", "2:4.9-9.el9", "rpm"),
    ]
    patch, new = patched("ubi9-minimal.Dockerfile", fixes, tmp_path)

    [final] = stages(new)
    commands = runs(final)
    assert commands[0] == "microdnf install -y shadow-utils && microdnf clean all"
    assert commands[1] == (
        "microdnf update -y         openssl         shadow-utils     && microdnf clean all"
    )
    assert "microdnf cannot pin versions" in patch.warnings[0]
    assert "openssl (needs >= 1:3.0.7-25.el9_3)" in patch.warnings[0]


def test_centos7_uses_yum_right_after_from(tmp_path):
    fixes = [PackageFix("openssl-libs", "1:1.0.2k-25.el7_9", "1:1.0.2k-26.el7_9", "rpm")]
    _, new = patched("centos7.Dockerfile", fixes, tmp_path)

    [final] = stages(new)
    assert [c.cmd for c in final] == ["FROM", "RUN", "LABEL", "CMD"]
    assert runs(final) == [
        "yum update -y         openssl-libs-1.0.2k-26.el7_9     && yum clean all"
    ]


def test_multi_stage_patches_the_final_stage_and_leaves_the_builder_alone(tmp_path):
    original = read("multistage.Dockerfile")
    fixes = [deb("openssl", "3.0.2-0ubuntu1.15"), deb("libssl3", "3.0.2-0ubuntu1.15")]
    patch, new = patched("multistage.Dockerfile", fixes, tmp_path)
    assert patch.changes == ["added RUN apt-get for libssl3, openssl after line 11 (final stage)"]

    builder, final = stages(new)
    assert builder == stages(original)[0]
    commands = runs(final)
    assert "libssl3=3.0.2-0ubuntu1.15" in commands[1]
    assert "openssl=3.0.2-0ubuntu1.15" in commands[1]
    assert [c.cmd for c in final][:4] == ["FROM", "RUN", "RUN", "RUN"]
    assert final[3].value == ("useradd --system app",)


def test_non_root_user_inherited_from_a_stage_is_switched_around_the_new_run(tmp_path):
    text = (
        "FROM registry.access.redhat.com/ubi9/ubi:9.3 AS base\n"
        "RUN dnf install -y python3 && dnf clean all\n"
        "USER 1001\n"
        "\n"
        "FROM base\n"
        "COPY app /app\n"
    )
    fix = PackageFix("expat", "2.5.0-1.el9", "2.5.0-2.el9_3", "rpm")
    patch = dockerfile_patch(dockerfile=text, findings=[fix])
    new = apply(text, patch.diff, tmp_path)

    _, final = stages(new)
    assert [(c.cmd, c.value[0]) for c in final[1:4]] == [
        ("USER", "root"),
        ("RUN", "dnf upgrade -y         expat-2.5.0-2.el9_3     && dnf clean all"),
        ("USER", "1001"),
    ]
    assert "as root" in patch.changes[0]
    assert dockerfile_patch(dockerfile=new, findings=[fix]).diff == ""


def test_pip_pins_are_rewritten_in_the_final_stage_and_the_stage_it_copies_from(tmp_path):
    fixes = [
        PackageFix("requests", "2.31.0", "2.32.0", "pypi"),
        PackageFix("Flask", "2.2.5", "2.3.2", "pypi"),
        PackageFix("urllib3", "1.26.0", "1.26.18", "pypi"),
        PackageFix("jinja2", "3.1.2", "3.1.3", "pypi"),
    ]
    patch, new = patched("python-pip.Dockerfile", fixes, tmp_path)

    build, final = stages(new)
    assert runs(build) == [
        'python -m pip install --no-cache-dir --prefix=/install "requests==2.32.0" '
        "flask==2.3.2 -r requirements.txt"
    ]
    assert runs(final) == ["pip install --no-cache-dir 'urllib3>=1.26.18' gunicorn"]
    assert patch.warnings == ["pin jinja2 >= 3.1.3 in requirements.txt"]


def test_npm_pins_are_rewritten_and_missing_ones_become_a_package_json_warning(tmp_path):
    fixes = [
        PackageFix("lodash", "4.17.15", "4.17.21", "npm"),
        PackageFix("@babel/traverse", "7.23.0", "7.23.2", "npm"),
        PackageFix("express", "4.18.2", "4.19.2", "npm"),
    ]
    patch, new = patched("node-npm.Dockerfile", fixes, tmp_path)

    [final] = stages(new)
    assert runs(final) == [
        "npm ci && npm install --omit=dev lodash@4.17.21 @babel/traverse@^7.23.2"
    ]
    assert patch.warnings == ["pin express >= 4.19.2 in package.json"]


def test_distroless_final_stage_gets_a_warning_and_no_change():
    original = read("distroless.Dockerfile")
    patch = dockerfile_patch(dockerfile=original, findings=[deb("libssl3", "3.0.11-1~deb12u2")])

    assert patch.diff == ""
    assert patch.changes == []
    assert "has no package manager" in patch.warnings[0]
    assert "distroless/static-debian12" in patch.warnings[0]


def test_findings_of_other_ecosystems_and_distros_are_explained_not_patched():
    text = "FROM alpine:3.19\n"
    patch = dockerfile_patch(
        dockerfile=text,
        findings=[
            deb("openssl", "3.0.11-1"),
            PackageFix("golang.org/x/net", "0.17.0", "0.23.0", "golang"),
            PackageFix("musl", "1.2.4-r1", "", "apk"),
        ],
    )

    assert patch.diff == ""
    assert "openssl is a deb package but the final stage uses apk: skipped" in patch.warnings
    assert any("golang.org/x/net (golang)" in w for w in patch.warnings)
    assert "musl 1.2.4-r1: no fixed version known" in patch.warnings


def test_the_highest_fixed_version_wins_when_findings_disagree(tmp_path):
    text = "FROM debian:12\n"
    fixes = [deb("openssl", "3.0.11-1~deb12u2"), deb("openssl", "3.0.13-1~deb12u1")]
    new = apply(text, dockerfile_patch(dockerfile=text, findings=fixes).diff, tmp_path)

    assert "openssl=3.0.13-1~deb12u1" in new
    assert "3.0.11" not in new


def test_file_without_final_newline_still_gets_an_applicable_diff(tmp_path):
    text = "FROM alpine:3.19\nRUN apk add --no-cache curl"
    fix = PackageFix("curl", "8.5.0-r0", "8.9.0-r0", "apk")
    new = apply(text, dockerfile_patch(dockerfile=text, findings=[fix]).diff, tmp_path)

    assert new == "FROM alpine:3.19\nRUN apk add --no-cache 'curl>=8.9.0-r0'"


@pytest.mark.django_db
def test_patch_for_findings_takes_stored_findings_and_their_first_fixed_version(tmp_path):
    parsed = report(
        finding("CVE-2024-0001", "libcrypto3", fixed_versions=("3.1.4-r5", "3.2.1-r0")),
    )
    scan_ingest(parsed=parsed, image=ALPINE, delivery=delivery())
    rows = Finding.objects.all()
    text = "FROM alpine:3.19\n"

    patch = patch_for_findings(dockerfile=text, findings=rows)

    assert "'libcrypto3>=3.1.4-r5'" in apply(text, patch.diff, tmp_path)


def test_unknown_base_image_falls_back_to_the_findings_package_type(tmp_path):
    text = "FROM --platform=$BUILDPLATFORM myco/base:1 AS app\nRUN echo hi\n"
    fix = PackageFix("libcurl", "8.5.0-r0", "8.9.0-r0", "apk")
    patch = dockerfile_patch(dockerfile=text, findings=[fix])
    new = apply(text, patch.diff, tmp_path)

    assert patch.warnings == [
        "cannot tell the distribution of 'myco/base:1'; assumed apk from the findings' package type"
    ]
    assert runs(stages(new)[0]) == [
        "apk add --no-cache --upgrade         'libcurl>=8.9.0-r0'",
        "echo hi",
    ]


def test_install_lines_inside_a_heredoc_are_pinned(tmp_path):
    text = "FROM alpine:3.19\nRUN <<EOF\nset -e\napk add --no-cache curl\nEOF\n"
    fix = PackageFix("curl", "8.5.0-r0", "8.9.0-r0", "apk")
    new = apply(text, dockerfile_patch(dockerfile=text, findings=[fix]).diff, tmp_path)

    assert new == "FROM alpine:3.19\nRUN <<EOF\nset -e\napk add --no-cache 'curl>=8.9.0-r0'\nEOF\n"
    [final] = stages(new)
    assert final[1].heredocs[0].content == "set -e\napk add --no-cache 'curl>=8.9.0-r0'\n"
