"""What a package name and a version may look like, per ecosystem, before any of them is
written into a Dockerfile.

Report text is data: a name or version that is not a plain token of its ecosystem's
grammar is never written (the package is left out with a warning). Every grammar here
is a subset of the real one, letters, digits and the few punctuation characters the
ecosystem allows, starting with a letter or digit (so never an option, a tilde or a
glob), and versions start with a digit (after an epoch):

- deb: Debian Policy 5.6.1 (names: ``a-z 0-9 + - .``, at least two characters,
  starting alphanumeric) and 5.6.12 (``[epoch:]upstream[-revision]``; upstream
  ``A-Za-z0-9 . + ~ -``, revision ``A-Za-z0-9 + . ~``).
- apk: apk-tools' ``digit{.digit}...{letter}{_suf{#}}...{~hash}{-r#}`` (suffixes
  alpha beta pre rc cvs svn git hg p); names as Alpine's ``pkgname``.
- rpm: Fedora's naming guidelines (``A-Za-z0-9 - . _ +``); ``[epoch:]version[-release]``
  with rpm's version characters (``A-Za-z0-9 . _ + ~ ^``; no ``-`` inside either).
- pypi: PEP 508 names; PEP 440 versions (the spec's own pattern, case-insensitive).
- npm: npm's package names (``@scope/name``, lower case, URL-safe, at most 214
  characters; legacy upper-case names accepted); semver.org's 2.0.0 pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TOKEN_MAX = 214
"""npm's limit, and long enough for any real package name or version elsewhere."""


@dataclass(frozen=True)
class Grammar:
    name: re.Pattern[str]
    version: re.Pattern[str]


_SEMVER_ID = r"(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
_PEP440 = (
    r"(?:\d+!)?\d+(?:\.\d+)*"
    r"(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?\d*)?"
    r"(?:-\d+|[-_.]?(?:post|rev|r)[-_.]?\d*)?"
    r"(?:[-_.]?dev[-_.]?\d*)?"
    r"(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?"
)

GRAMMARS: dict[str, Grammar] = {
    "deb": Grammar(
        re.compile(r"[a-z0-9][a-z0-9+.-]+"),
        re.compile(r"(?:\d+:)?\d[A-Za-z0-9.+~]*(?:-[A-Za-z0-9.+~]+)*"),
    ),
    "apk": Grammar(
        re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*"),
        re.compile(
            r"\d+(?:\.\d+)*[a-z]?(?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*"
            r"(?:~[0-9a-f]+)?(?:-r\d+)?"
        ),
    ),
    "rpm": Grammar(
        re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*"),
        re.compile(r"(?:\d+:)?\d[A-Za-z0-9._+~^]*(?:-[A-Za-z0-9._+~^]+)?"),
    ),
    "pypi": Grammar(
        re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"),
        re.compile(_PEP440, re.IGNORECASE),
    ),
    "npm": Grammar(
        re.compile(r"(?:@[a-z0-9][a-z0-9._~-]*/)?[A-Za-z0-9][A-Za-z0-9._~-]*"),
        re.compile(
            rf"(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)"
            rf"(?:-{_SEMVER_ID}(?:\.{_SEMVER_ID})*)?(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?"
        ),
    ),
}
PACKAGE_TYPE = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
"""What a package type (deb, pypi, golang, …) may look like at all."""


def _token(pattern: re.Pattern[str], text: str) -> bool:
    return len(text) <= TOKEN_MAX and text.isascii() and pattern.fullmatch(text) is not None


def package_name_ok(package_type: str, name: str) -> bool:
    """Whether ``name`` is a plain package name of ``package_type``'s ecosystem."""
    grammar = GRAMMARS.get(package_type)
    return grammar is not None and _token(grammar.name, name)


def version_ok(package_type: str, version: str) -> bool:
    """Whether ``version`` is a plain version of ``package_type``'s ecosystem."""
    grammar = GRAMMARS.get(package_type)
    return grammar is not None and _token(grammar.version, version)


def package_type_ok(package_type: str) -> bool:
    return PACKAGE_TYPE.fullmatch(package_type) is not None
