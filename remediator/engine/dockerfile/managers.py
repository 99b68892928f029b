"""Package managers: which commands install packages, how an argument names a
package, and how to write "at least the fixed version" in each one's syntax."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .shell import Word, program

_SAFE = re.compile(r"[\w@%+=:,./^-][\w@%+=:,./~^-]*", re.ASCII)
"""Words the shell takes as they are (no leading ``~``, which it would expand)."""


def shell_word(text: str, quote: str = "") -> str:
    """``text`` as one shell word: kept bare when safe, else quoted (``quote`` if given)."""
    if quote == '"':
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if not quote and _SAFE.fullmatch(text):
        return text
    return "'" + text.replace("'", "'\\''") + "'"


@dataclass(frozen=True)
class Spec:
    name: str
    op: str
    version: str
    rest: str = ""
    """Anything kept around the name: Debian ``:arch``, pip ``[extras]``."""


@dataclass(frozen=True)
class Manager:
    name: str
    package_type: str
    programs: tuple[str, ...]
    subcommands: tuple[str, ...]
    value_options: frozenset[str]
    """Options that take the next word as their value."""
    split: Callable[[str], Spec | None]
    render: Callable[[Spec, str], str]
    """(spec of the existing argument, fixed version) -> the new argument's text."""
    satisfied: Callable[[Spec, str], bool]
    """Whether an argument already asks for at least the fixed version."""
    can_pin: bool = True

    def package_words(self, words: list[Word]) -> list[Word]:
        """Package arguments if ``words`` is this manager's install command, else []."""
        words = _python_module(words)
        if program(words) not in self.programs:
            return []
        args: list[Word] = []
        subcommand = ""
        skip = False
        for word in words[1:]:
            value = word.value
            if skip:
                skip = False
            elif value.startswith("-"):
                skip = value in self.value_options
            elif not subcommand:
                subcommand = value
                if subcommand not in self.subcommands:
                    return []
            else:
                args.append(word)
        return args if subcommand else []

    def same_package(self, spec: Spec, package: str) -> bool:
        if self.package_type == "pypi":
            return _pep503(spec.name) == _pep503(package)
        return spec.name == package


def _python_module(words: list[Word]) -> list[Word]:
    """``python3 -m pip ...`` and ``uv pip ...`` -> ``pip ...``."""
    name = program(words)
    if re.fullmatch(r"python[\d.]*", name) and len(words) > 2 and words[1].value == "-m":
        return words[2:]
    if name == "uv" and len(words) > 1 and words[1].value == "pip":
        return words[1:]
    return words


def _pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _strip_epoch(version: str) -> str:
    head, sep, tail = version.partition(":")
    return tail if sep and head.isdigit() else version


# --- Debian / Ubuntu ---------------------------------------------------------
_DEB = re.compile(r"^([a-z0-9][a-z0-9+.-]*)(:[a-z0-9-]+)?(?:(=)(.+)|/(.+))?$")


def _deb_split(text: str) -> Spec | None:
    match = _DEB.match(text)
    if not match:
        return None
    return Spec(match.group(1), match.group(3) or "", match.group(4) or "", match.group(2) or "")


APT = Manager(
    name="apt",
    package_type="deb",
    programs=("apt-get", "apt", "aptitude"),
    subcommands=("install",),
    value_options=frozenset({"-o", "-t", "-c", "--target-release", "--option", "--config-file"}),
    split=_deb_split,
    render=lambda spec, version: f"{spec.name}{spec.rest}={version}",
    satisfied=lambda spec, version: spec.op == "=" and spec.version == version,
)

# --- Alpine ------------------------------------------------------------------
_APK = re.compile(r"^([^=<>~\s]+?)(?:([<>=~]{1,2})(.+))?$")


def _apk_split(text: str) -> Spec | None:
    match = _APK.match(text)
    if not match or match.group(1).startswith("/") or match.group(1).endswith(".apk"):
        return None
    return Spec(match.group(1), match.group(2) or "", match.group(3) or "")


APK = Manager(
    name="apk",
    package_type="apk",
    programs=("apk",),
    subcommands=("add",),
    value_options=frozenset(
        {"-X", "--repository", "-t", "--virtual", "-p", "--root", "--arch", "--cache-dir"}
    ),
    split=_apk_split,
    # apk's "=" pins exactly and "~" fuzzily; ">=" asks for at least the fixed version.
    render=lambda spec, version: f"{spec.name}>={version}",
    satisfied=lambda spec, version: spec.op in ("=", ">=") and spec.version == version,
)


# --- RHEL family ---------------------------------------------------------------
def _rpm_split(text: str) -> Spec | None:
    match = re.match(r"^([A-Za-z0-9_+.-]+?)(?:-(\d+:)?(\d[\w.~+^-]*))?$", text)
    if not match or "/" in text or text.endswith(".rpm"):
        return None
    return Spec(match.group(1), "-" if match.group(3) else "", match.group(3) or "")


def _rpm(name: str, can_pin: bool = True) -> Manager:
    return Manager(
        name=name,
        package_type="rpm",
        programs=(name,),
        subcommands=("install", "upgrade", "update", "reinstall"),
        value_options=frozenset(
            {"--setopt", "--enablerepo", "--disablerepo", "--installroot", "--releasever"}
            | {"-x", "--exclude", "-c", "--config", "--repo"}
        ),
        split=_rpm_split,
        render=lambda spec, version: f"{spec.name}-{_strip_epoch(version)}",
        satisfied=lambda spec, version: spec.op == "-" and spec.version == _strip_epoch(version),
        can_pin=can_pin,
    )


DNF = _rpm("dnf")
YUM = _rpm("yum")
MICRODNF = _rpm("microdnf", can_pin=False)

# --- Python ------------------------------------------------------------------
_PEP508 = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*((?:===|==|>=|<=|~=|!=|>|<))?(.*)$"
)


def _pip_split(text: str) -> Spec | None:
    match = _PEP508.match(text)
    if not match or "/" in text or text.endswith((".whl", ".gz", ".zip", ".txt")):
        return None
    version = match.group(4).split(",")[0].split(";")[0].strip()
    if match.group(4) and not match.group(3):
        return None
    return Spec(match.group(1), match.group(3) or "", version, match.group(2) or "")


PIP = Manager(
    name="pip",
    package_type="pypi",
    programs=("pip", "pip3", *(f"pip3.{minor}" for minor in range(6, 16))),
    subcommands=("install",),
    value_options=frozenset(
        {"-r", "--requirement", "-c", "--constraint", "-i", "--index-url", "--extra-index-url"}
        | {"-f", "--find-links", "-t", "--target", "--prefix", "--root", "-e", "--editable"}
        | {"--trusted-host", "--platform", "--python-version", "--cache-dir", "--src"}
        | {"--only-binary", "--no-binary", "--upgrade-strategy", "--progress-bar"}
    ),
    split=_pip_split,
    render=lambda spec, version: (
        f"{spec.name}{spec.rest}" + ("==" if spec.op in ("==", "===") else ">=") + version
    ),
    satisfied=lambda spec, version: (
        spec.op in ("==", "===", ">=", "~=") and spec.version == version
    ),
)


# --- npm ---------------------------------------------------------------------
def _npm_split(text: str) -> Spec | None:
    if text.startswith((".", "/", "git", "http", "file:")):
        return None
    at = text.find("@", 1)
    if at < 0:
        return Spec(text, "", "")
    return Spec(text[:at], "@", text[at + 1 :])


def _npm_render(spec: Spec, version: str) -> str:
    prefix = spec.version[:1] if spec.version[:1] in ("^", "~") else ""
    return f"{spec.name}@{prefix}{version}"


NPM = Manager(
    name="npm",
    package_type="npm",
    programs=("npm", "yarn", "pnpm"),
    subcommands=("install", "i", "add"),
    value_options=frozenset({"--prefix", "--registry", "-w", "--workspace", "--omit"}),
    split=_npm_split,
    render=_npm_render,
    satisfied=lambda spec, version: spec.version.lstrip("^~=>") == version,
)

OS_MANAGERS = {m.name: m for m in (APT, APK, DNF, YUM, MICRODNF)}
LANGUAGE_MANAGERS = {"pypi": PIP, "npm": NPM}
MANIFESTS = {"pypi": "requirements.txt", "npm": "package.json"}
