"""Dockerfile + fixable findings -> a unified diff that upgrades the packages.

OS packages (deb, apk, rpm) are upgraded in the final stage only: pinned in
an install command that already names them, else in one new RUN placed after
the stage's last package-manager RUN (or right after its FROM), run as root.
Python and npm pins are rewritten where a ``pip install``/``npm install`` of
the final stage (or a stage it is built from or copies from) names them;
otherwise a warning says where to pin them.

Names and versions come from scan reports: one that is not a plain token of its
ecosystem (``tokens.py``) is left out with a warning, never written; what is written
is shell-quoted where needed. Text shown in changes and warnings (from a report or
the Dockerfile) is one visible line (``remediator.core.quoting.visible``).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from remediator.core.quoting import visible

from .distro import NO_MANAGER, detect_distro
from .managers import LANGUAGE_MANAGERS, MANIFESTS, OS_MANAGERS, Manager, Spec, shell_word
from .parse import ParsedDockerfile, Stage, is_root, parse_dockerfile
from .shell import Word, program, simple_commands
from .tokens import GRAMMARS, package_name_ok, package_type_ok, version_ok

_OS_TYPES = {"deb": "apt", "apk": "apk", "rpm": "dnf"}
_PACKAGE_PROGRAMS = ("apt-get", "apt", "apk", "dnf", "yum", "microdnf")
_NEW_RUN = {
    "apt": (
        "apt-get update",
        "apt-get install -y --no-install-recommends",
        "rm -rf /var/lib/apt/lists/*",
    ),
    "apk": ("", "apk add --no-cache --upgrade", ""),
    "dnf": ("", "dnf upgrade -y", "dnf clean all"),
    "yum": ("", "yum update -y", "yum clean all"),
    "microdnf": ("", "microdnf update -y", "microdnf clean all"),
}
_COPY_FROM = re.compile(r"--from=(\S+)")


@dataclass(frozen=True)
class PackageFix:
    package: str
    installed_version: str
    fixed_version: str
    package_type: str


@dataclass
class DockerfilePatch:
    diff: str
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    text: str = ""
    """The patched Dockerfile ('' when nothing changes): what a fix pull request commits."""


@dataclass
class _Edits:
    lines: list[str]
    replacements: list[tuple[Word, str]] = field(default_factory=list)
    insertions: list[tuple[int, list[str]]] = field(default_factory=list)

    def result(self) -> list[str]:
        lines = list(self.lines)
        for word, text in sorted(self.replacements, key=lambda r: (r[0].line, -r[0].start)):
            line = lines[word.line]
            lines[word.line] = line[: word.start] + text + line[word.end :]
        for after, new in sorted(self.insertions, reverse=True):
            lines[after + 1 : after + 1] = new
        return lines


def dockerfile_patch(
    *, dockerfile: str, findings: Iterable[PackageFix], path: str = "Dockerfile"
) -> DockerfilePatch:
    """The diff that upgrades ``findings`` to their fixed versions, what it changes, and why
    anything could not be changed. Patching an already patched Dockerfile gives ''."""
    parsed = parse_dockerfile(dockerfile)
    changes: list[str] = []
    warnings: list[str] = []
    if not parsed.stages:
        return DockerfilePatch("", [], ["no FROM instruction: not a Dockerfile"])
    edits = _Edits(parsed.lines)
    fixes = _checked(_typed(parsed, _merge(findings, warnings), warnings), warnings)
    os_fixes = [f for f in fixes if f.package_type in _OS_TYPES]
    if os_fixes:
        _patch_os(parsed, os_fixes, edits, changes, warnings)
    for fix in fixes:
        if fix.package_type in LANGUAGE_MANAGERS:
            _patch_language(parsed, fix, edits, changes, warnings)
        elif fix.package_type not in _OS_TYPES:
            warnings.append(
                f"{visible(fix.package)} ({fix.package_type}): upgrade it to "
                f"{visible(fix.fixed_version)} in the application's dependency manifest; "
                "a Dockerfile cannot pin it"
            )
    new = edits.result()
    diff = _diff(dockerfile, parsed.lines, new, path)
    return DockerfilePatch(diff, changes, warnings, _joined(dockerfile, new) if diff else "")


def patch_for_findings(
    *, dockerfile: str, findings: Iterable, path: str = "Dockerfile"
) -> DockerfilePatch:
    """:func:`dockerfile_patch` for ``findings.models.Finding`` rows (first fixed version)."""
    fixes = [
        PackageFix(
            package=f.package,
            installed_version=f.installed_version,
            fixed_version=(f.fixed_version or "").split(",")[0].strip(),
            package_type=f.package_type,
        )
        for f in findings
    ]
    return dockerfile_patch(dockerfile=dockerfile, findings=fixes, path=path)


def _merge(findings: Iterable[PackageFix], warnings: list[str]) -> list[PackageFix]:
    """One fix per package: the highest fixed version asked for."""
    merged: dict[tuple[str, str], PackageFix] = {}
    for fix in findings:
        if not fix.fixed_version:
            shown = f"{visible(fix.package)} {visible(fix.installed_version)}".strip()
            warnings.append(f"{shown}: no fixed version known")
            continue
        key = (fix.package_type, fix.package)
        if key not in merged or version_key(fix.fixed_version) > version_key(
            merged[key].fixed_version
        ):
            merged[key] = fix
    return sorted(merged.values(), key=lambda f: (f.package_type, f.package))


def _checked(fixes: list[PackageFix], warnings: list[str]) -> list[PackageFix]:
    """The fixes whose package type, name and versions are plain tokens of their ecosystem;
    each other one is left out with a warning naming the field."""
    kept = []
    for fix in fixes:
        kind, name = fix.package_type, visible(fix.package)
        problem = ""
        if kind not in ("", "unknown") and not package_type_ok(kind):
            problem = f"{name}: package type '{visible(kind)}' is not a package type"
        elif kind in GRAMMARS:
            if not package_name_ok(kind, fix.package):
                problem = f"package name '{name}' is not a valid {kind} package name"
            elif not version_ok(kind, fix.fixed_version):
                problem = (
                    f"{name}: fixed version '{visible(fix.fixed_version)}' is not a valid "
                    f"{kind} version"
                )
            elif fix.installed_version and not version_ok(kind, fix.installed_version):
                problem = (
                    f"{name}: installed version '{visible(fix.installed_version)}' is not a "
                    f"valid {kind} version"
                )
        if problem:
            warnings.append(f"{problem}: left out")
        else:
            kept.append(fix)
    return kept


def _typed(parsed: ParsedDockerfile, fixes: list[PackageFix], warnings: list[str]):
    """A package of no known type (a scanner that names none, as the seed's Aqua payload)
    is taken for an OS package of the final stage's distribution, when it has one."""
    unknown = [f for f in fixes if f.package_type in ("", "unknown")]
    distro = detect_distro(parsed, parsed.stages[-1]) if unknown else None
    manager = OS_MANAGERS.get(distro.manager) if distro and distro.manager else None
    if manager is None:
        return fixes
    for fix in unknown:
        warnings.append(
            f"{visible(fix.package)}: the scanner named no package type; treated as "
            f"{_article(manager.package_type)} {manager.package_type} package of the final stage"
        )
    return [replace(f, package_type=manager.package_type) if f in unknown else f for f in fixes]


def version_key(version: str) -> tuple:
    """Orders versions of one package well enough to pick the highest fix
    (epoch, then numeric and alphabetic runs; ``~`` sorts before anything)."""
    epoch, sep, rest = version.partition(":")
    if not (sep and epoch.isdigit()):
        epoch, rest = "0", version
    parts = re.findall(r"\d+|[A-Za-z]+|~", rest)
    return int(epoch), [
        (2, int(p), "") if p.isdigit() else (0 if p == "~" else 1, 0, p) for p in parts
    ]


def _patch_os(parsed, fixes, edits, changes, warnings) -> None:
    final = parsed.stages[-1]
    distro = detect_distro(parsed, final)
    if distro.manager == NO_MANAGER:
        names = ", ".join(f.package for f in fixes)
        warnings.append(
            f"the final stage ({visible(distro.source)}) has no package manager: {names} can "
            "only be fixed by rebuilding on a patched base image"
        )
        return
    name = distro.manager
    if not name:
        common = Counter(f.package_type for f in fixes).most_common(1)[0][0]
        name = _OS_TYPES[common]
        warnings.append(
            f"cannot tell the distribution of '{visible(parsed.base_image(final))}'; "
            f"assumed {name} from the findings' package type"
        )
    manager = OS_MANAGERS[name]
    pending = []
    for fix in fixes:
        if fix.package_type != manager.package_type:
            warnings.append(
                f"{fix.package} is {_article(fix.package_type)} {fix.package_type} package "
                f"but the final stage uses "
                f"{manager.name}: skipped"
            )
        elif not _pin_existing(parsed, [final], manager, fix, edits, changes, warnings):
            pending.append(fix)
    if pending:
        _add_run(parsed, final, manager, pending, edits, changes, warnings)


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _pin_existing(parsed, stages, manager: Manager, fix, edits, changes, warnings) -> bool:
    """Pin ``fix`` wherever an install command in ``stages`` names it; True if any did."""
    found = False
    for stage in stages:
        for instruction in stage.instructions:
            for words in simple_commands(parsed, instruction):
                upgrade = len(words) > 1 and words[1].value in ("update", "upgrade")
                for word in manager.package_words(words):
                    spec = manager.split(word.value)
                    if spec is None or not manager.same_package(spec, fix.package):
                        continue
                    if not manager.can_pin:
                        found = found or upgrade
                        continue
                    found = True
                    if manager.satisfied(spec, fix.fixed_version):
                        continue
                    if spec.version and not _same_version(spec.version, fix.installed_version):
                        warnings.append(
                            f"line {word.line + 1}: {fix.package} was pinned to "
                            f"{visible(spec.version)}, "
                            f"the scan saw {fix.installed_version}; now {fix.fixed_version}"
                        )
                    new = shell_word(manager.render(spec, fix.fixed_version), word.quote)
                    edits.replacements.append((word, new))
                    where = f" (stage {stage.name})" if stage is not parsed.stages[-1] else ""
                    changes.append(
                        f"line {word.line + 1}: {visible(word.text)} -> {new} "
                        f"in {program(words)} {words[1].value}{where}"
                    )
    return found


def _add_run(parsed: ParsedDockerfile, final: Stage, manager, fixes, edits, changes, warnings):
    position = 0
    for index, instruction in enumerate(final.instructions):
        commands = simple_commands(parsed, instruction)
        if any(program(words) in _PACKAGE_PROGRAMS for words in commands):
            position = index
    after = final.instructions[position].end
    first, install, clean = _NEW_RUN[manager.name]
    escape = parsed.escape
    if manager.can_pin:
        args = [shell_word(manager.render(Spec(f.package, "", ""), f.fixed_version)) for f in fixes]
    else:
        args = [shell_word(f.package) for f in fixes]
        warnings.append(
            "microdnf cannot pin versions: it upgrades "
            + ", ".join(f"{f.package} (needs >= {f.fixed_version})" for f in fixes)
            + " to the newest the enabled repositories have; check the rebuilt image's scan"
        )
    lines = ["# Remediator: upgrade packages with published fixes"]
    lines.append(f"RUN {first} {escape}" if first else f"RUN {install} {escape}")
    if first:
        lines.append(f"    && {install} {escape}")
    lines += [f"        {arg} {escape}" for arg in args]
    lines[-1] = lines[-1][: -len(escape) - 1]
    if clean:
        lines[-1] += f" {escape}"
        lines.append(f"    && {clean}")
    user = parsed.user_before(final, position)
    if not is_root(user):
        lines = ["USER root", *lines, f"USER {user}"]
    edits.insertions.append((after, lines))
    changes.append(
        f"added RUN {install.split()[0]} for {', '.join(f.package for f in fixes)} "
        f"after line {after + 1} (final stage{', as root' if not is_root(user) else ''})"
    )


def _same_version(pinned: str, installed: str) -> bool:
    """``^7.1`` / ``1:2.3-4`` / ``2.3-4`` name the same version, ignoring ranges and epochs."""

    def bare(version: str) -> str:
        version = version.lstrip("^~=<>")
        epoch, sep, rest = version.partition(":")
        return rest if sep and epoch.isdigit() else version

    return bare(pinned) == bare(installed)


def _related_stages(parsed: ParsedDockerfile) -> list[Stage]:
    """The final stage, then the stages it is built from or copies files from."""
    order: list[Stage] = []
    todo = [parsed.stages[-1]]
    while todo:
        stage = todo.pop(0)
        if stage in order:
            continue
        order.append(stage)
        if (parent := parsed.parent(stage)) is not None:
            todo.append(parent)
        for instruction in stage.instructions:
            if instruction.keyword in ("COPY", "ADD"):
                for name in _COPY_FROM.findall(instruction.text):
                    if (source := parsed.stage_named(name)) is not None:
                        todo.append(source)
    return order


def _patch_language(parsed, fix: PackageFix, edits, changes, warnings) -> None:
    manager = LANGUAGE_MANAGERS[fix.package_type]
    if not _pin_existing(parsed, _related_stages(parsed), manager, fix, edits, changes, warnings):
        warnings.append(
            f"pin {fix.package} >= {fix.fixed_version} in {MANIFESTS[fix.package_type]}"
        )


def _joined(original: str, lines: list[str]) -> str:
    """``lines`` as a file with the original's line ending and final newline (or not)."""
    ending = "\r\n" if "\r\n" in original else "\n"
    text = ending.join(lines)
    return text + ending if original.endswith(("\n", "\r")) else text


def _diff(original: str, old: list[str], new: list[str], path: str) -> str:
    if old == new:
        return ""
    ending = "\r\n" if "\r\n" in original else "\n"
    before = [line + ending for line in old]
    after = [line + ending for line in new]
    if original and not original.endswith(("\n", "\r")):
        before[-1] = before[-1][: -len(ending)]
        after[-1] = after[-1][: -len(ending)]
    out = []
    for line in difflib.unified_diff(before, after, f"a/{path}", f"b/{path}"):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
