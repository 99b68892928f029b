"""Dockerfile text -> instructions and stages, keeping physical line positions.

Only as much of the Dockerfile grammar as patching needs: parser directives
(``# escape=``), comments, line continuations (comment and blank lines inside
them), heredocs, ``FROM image AS name`` stages and global ``ARG`` defaults
(substituted into ``FROM``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$")
_HEREDOC = re.compile(r"<<(-?)\s*([\"']?)([A-Za-z_][\w.-]*)\2")
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_]\w*)(?::?-([^}]*))?\}|([A-Za-z_]\w*))")
_ROOT_USERS = {"", "root", "0"}


@dataclass
class Instruction:
    keyword: str
    """Upper case, e.g. ``RUN``."""
    start: int
    """Index of the first physical line."""
    end: int
    """Index of the last physical line (inclusive)."""
    text: str
    """Arguments after the keyword, continuations joined, comment lines dropped."""


@dataclass
class Stage:
    index: int
    name: str
    """``AS`` alias in lower case, or ''."""
    base: str
    """Image reference (or earlier stage name) after ARG substitution."""
    instructions: list[Instruction] = field(default_factory=list)


@dataclass
class ParsedDockerfile:
    lines: list[str]
    """Physical lines without their line endings."""
    escape: str
    instructions: list[Instruction]
    stages: list[Stage]

    def stage_named(self, name: str) -> Stage | None:
        name = name.lower()
        for stage in self.stages:
            if stage.name and stage.name == name:
                return stage
        if name.isdigit() and int(name) < len(self.stages):
            return self.stages[int(name)]
        return None

    def parent(self, stage: Stage) -> Stage | None:
        """The earlier stage this one is built ``FROM``, if any."""
        parent = self.stage_named(stage.base)
        return parent if parent is not None and parent.index < stage.index else None

    def base_image(self, stage: Stage) -> str:
        """The outside image at the root of the stage's FROM chain."""
        while (parent := self.parent(stage)) is not None:
            stage = parent
        return stage.base

    def user_before(self, stage: Stage, position: int) -> str:
        """The USER in effect in ``stage`` after instruction ``position`` (index in stage)."""
        for instruction in reversed(stage.instructions[: position + 1]):
            if instruction.keyword == "USER":
                return instruction.text.strip()
        parent = self.parent(stage)
        return self.user_before(parent, len(parent.instructions) - 1) if parent else ""


def is_root(user: str) -> bool:
    """``USER root``, ``USER 0``, ``USER root:group`` (or no USER) run as root."""
    return user.split(":", 1)[0].strip() in _ROOT_USERS


def _directives(lines: list[str]) -> tuple[str, int]:
    escape = "\\"
    index = 0
    while index < len(lines):
        match = _DIRECTIVE.match(lines[index].strip())
        if not match:
            break
        if match.group(1).lower() == "escape" and match.group(2) in ("\\", "`"):
            escape = match.group(2)
        index += 1
    return escape, index


def _continues(line: str, escape: str) -> bool:
    return line.rstrip().endswith(escape)


def _skipped(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _substitute(value: str, args: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        return args.get(name) or (match.group(2) or "")

    return _VARIABLE.sub(replace, value)


def _from(text: str, args: dict[str, str]) -> tuple[str, str]:
    words = [w for w in text.split() if not w.startswith("--")]
    base = _substitute(words[0], args) if words else ""
    name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else ""
    return base, name


def parse_dockerfile(text: str) -> ParsedDockerfile:
    lines = text.splitlines()
    escape, index = _directives(lines)
    instructions: list[Instruction] = []
    while index < len(lines):
        stripped = lines[index].strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        start = index
        keyword, _, rest = stripped.partition(" ")
        pieces = [rest]
        while _continues(lines[index], escape) and index + 1 < len(lines):
            pieces[-1] = pieces[-1].rstrip()[: -len(escape)]
            index += 1
            # Comment and blank lines inside a continuation are dropped by the builder.
            while index + 1 < len(lines) and _skipped(lines[index]):
                index += 1
            if _skipped(lines[index]):
                break
            pieces.append(lines[index])
        joined = "".join(pieces)
        keyword = keyword.rstrip(escape).upper()
        if keyword in ("RUN", "COPY", "ADD"):
            for strip_tabs, _quote, marker in _HEREDOC.findall(joined):
                while index + 1 < len(lines):
                    index += 1
                    body = lines[index].lstrip("\t") if strip_tabs else lines[index]
                    if body == marker:
                        break
        instructions.append(Instruction(keyword, start, index, joined.strip()))
        index += 1

    stages: list[Stage] = []
    global_args: dict[str, str] = {}
    for instruction in instructions:
        if instruction.keyword == "FROM":
            base, name = _from(instruction.text, global_args)
            stages.append(Stage(len(stages), name, base, [instruction]))
        elif stages:
            stages[-1].instructions.append(instruction)
        elif instruction.keyword == "ARG":
            key, _, value = instruction.text.partition("=")
            global_args[key.strip()] = value.strip().strip("\"'")
    return ParsedDockerfile(lines, escape, instructions, stages)
