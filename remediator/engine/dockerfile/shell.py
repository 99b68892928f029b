"""Shell words of a RUN instruction, with their physical positions.

Enough of the POSIX shell to find package arguments of install commands and
rewrite them in place: quotes, backslash escapes, ``&&``/``||``/``;``/``|``
separators, comments and line continuations. Exec-form RUN (JSON) is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .parse import Instruction, ParsedDockerfile

_TOKEN = re.compile(r"""&&|\|\||[;|&()]|(?:[^\s'"\\;&|()]|\\.|'[^']*'|"(?:[^"\\]|\\.)*")+""")
_RUN_FLAG = re.compile(r"^--(mount|network|security|device)=")
_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")
_WRAPPERS = {"sudo", "env", "command", "exec", "nice", "time"}


@dataclass(frozen=True)
class Word:
    line: int
    start: int
    end: int
    text: str
    """As written, quotes included."""

    @property
    def value(self) -> str:
        """The word with quotes and backslash escapes removed."""
        out: list[str] = []
        text, i = self.text, 0
        while i < len(text):
            char = text[i]
            if char == "'":
                close = text.index("'", i + 1)
                out.append(text[i + 1 : close])
                i = close + 1
            elif char == '"':
                i += 1
                while i < len(text) and text[i] != '"':
                    if text[i] == "\\" and i + 1 < len(text):
                        i += 1
                    out.append(text[i])
                    i += 1
                i += 1
            elif char == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 2
            else:
                out.append(char)
                i += 1
        return "".join(out)

    @property
    def quote(self) -> str:
        return self.text[0] if self.text[:1] in ("'", '"') else ""


def simple_commands(dockerfile: ParsedDockerfile, run: Instruction) -> list[list[Word]]:
    """The simple commands of a shell-form RUN, leading env assignments and
    ``sudo``-like wrappers removed. Heredoc bodies are scanned as shell too."""
    if run.keyword != "RUN" or run.text.lstrip().startswith("["):
        return []
    commands: list[list[Word]] = []
    current: list[Word] = []
    first = True
    for number in range(run.start, run.end + 1):
        line = dockerfile.lines[number]
        if not first and line.strip().startswith("#"):
            continue
        continued = line.rstrip().endswith(dockerfile.escape)
        words = [Word(number, m.start(), m.end(), m.group()) for m in _TOKEN.finditer(line)]
        if first:
            words = words[1:]  # the RUN keyword
            while words and _RUN_FLAG.match(words[0].text):
                words = words[1:]
            first = False
        for word in words:
            if word.text.startswith("#"):
                break
            if word.text in ("&&", "||", ";", "|", "&", "(", ")") or word.text.startswith("<<"):
                commands.append(current)
                current = []
            else:
                current.append(word)
        if not continued:
            commands.append(current)
            current = []
    commands.append(current)
    return [_unwrap(c) for c in commands if c]


def _unwrap(words: list[Word]) -> list[Word]:
    while words and (_ASSIGNMENT.match(words[0].text) or words[0].value in _WRAPPERS):
        words = words[1:]
    return words


def program(words: list[Word]) -> str:
    """The command's program name without its directory: ``/usr/bin/apt-get`` -> ``apt-get``."""
    return words[0].value.rsplit("/", 1)[-1] if words else ""
