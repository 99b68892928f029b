"""One quoting discipline for text from outside that Remediator writes into Markdown (a pull
request's body), a title or a commit message. Pure Python.

- :func:`visible` makes any text one printable line: control characters (C0, DEL, C1),
  line and paragraph separators, bidi controls and zero-width characters become ``\\n``,
  ``\\u202e``… so nothing reorders or splits what a reviewer reads.
- :func:`code` shows it as a CommonMark inline code span (a backtick fence longer than any
  run of backticks inside, padded when the text starts or ends with a backtick or space),
  so it never becomes a link, an image, an HTML tag, a heading or emphasis; GitHub and
  GitLab link neither ``@mentions`` nor ``#1`` inside code. :func:`cell` also escapes
  ``|``, which a GFM table splits on even inside code spans.
- Closing keywords are different: GitLab finds them with a regular expression over the raw
  text (``Gitlab::ClosingIssueExtractor``), code spans included, and both hosts act on them
  in commit messages. :func:`defused` breaks every closing statement (GitHub's keywords and
  ``#1``/``GH-1``/``org/repo#1``/URL references; GitLab's default ``issue_closing_pattern``,
  with ``implement`` and Jira-style ``ABC-1``) by showing the space after the keyword as
  ``␠``; :func:`closing_statements` finds them, for checks.
- :func:`vulnerability_id` tells a vulnerability identifier (CVE-…, GHSA-…) from free text;
  :func:`name_token`, :func:`version_token` and :func:`image_reference` do the same for
  package names, versions and image references. A title and a commit message carry only
  such validated tokens, never free text.
"""

from __future__ import annotations

import re

SHOWN_MAX = 200
"""Characters of one outside value shown before it is cut with "…"."""

_ESCAPED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_INVISIBLE = frozenset(
    "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d"
    "\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
"""Zero-width, bidi and separator characters: escaped although some count as printable."""

_KEYWORD = r"(?:clos(?:e[sd]?|ing)|fix(?:e[sd]|ing)?|resolv(?:e[sd]?|ing)|implement(?:s|ed|ing)?)"
_REFERENCE = (
    r"(?:issues?\s+)?"
    r"(?:[\w.-]+(?:/[\w.-]+)*)?#\d+"  # #1, org/repo#1, group/sub/project#1
    r"|gh-\d+"  # GitHub's other issue prefix
    r"|https?://\S+"  # a link to an issue
    r"|[A-Z][A-Z0-9_]+-\d+"  # GitLab's Jira-style pattern (case-sensitive in GitLab)
)
_CLOSING = re.compile(rf"({_KEYWORD}:?)(\s+)(?={_REFERENCE})", re.IGNORECASE)
DEFUSED_SPACE = "\u2420"
"""SYMBOL FOR SPACE: what the space after a closing keyword is shown as."""

_VULNERABILITY_ID = re.compile(
    r"(?:CVE-\d{4}-\d{4,}"
    r"|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}"
    r"|(?:PYSEC|GO|RUSTSEC|OSV|MAL|GSD|GMS|BIT|CGA|DTSA|MGASA|RLSA|ALBA|ELBA)-\d{4}-[0-9A-Za-z]+"
    r"|(?:ALAS|ALAS2|ALAS2022|ALAS2023|ALSA|ELSA|RHSA|RHBA|RHEA|CESA|OESA)-\d{4}[:-]\d{1,6}"
    r"|(?:DSA|DLA|USN|ELA)-\d{1,6}-\d{1,3}"
    r"|(?:SUSE|openSUSE)-(?:SU|RU)-\d{4}:\d{1,6}-\d{1,3}"
    r"|TEMP-\d{7}-[0-9A-F]{6}"
    r"|NSWG-ECO-\d{1,6}"
    r"|SNYK-[A-Z0-9]+(?:-[A-Z0-9]+){1,4})"
)
VULNERABILITY_ID_MAX = 64
_NAME_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
_VERSION_TOKEN = re.compile(r"(?:\d+:)?\d[A-Za-z0-9._+~^-]{0,127}")
_IMAGE = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::\d{1,5})?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::\w[\w.-]{0,127})?"
)
"""The distribution spec's reference grammar (domain, path components, tag), ASCII."""


def _shown_char(char: str) -> str:
    """A character as shown: itself when printable and visible, else an escape."""
    if char.isprintable() and char not in _INVISIBLE:
        return char
    if char in _ESCAPED:
        return _ESCAPED[char]
    number = ord(char)
    if number < 0x100:
        return f"\\x{number:02x}"
    return f"\\u{number:04x}" if number < 0x10000 else f"\\U{number:08x}"


def visible(text: object, limit: int = SHOWN_MAX) -> str:
    """``text`` as one printable line: invisible and control characters escaped, cut at
    ``limit`` characters (with "…")."""
    text = "" if text is None else str(text)
    cut = len(text) > limit
    text = text[:limit]
    plain = text.isascii() and text.isprintable()
    shown = text if plain else "".join(map(_shown_char, text))
    return shown + ("…" if cut else "")


def closing_statements(text: str) -> list[str]:
    """The closing statements (keyword + issue reference) GitHub or GitLab would act on."""
    return [m.group(1) for m in _CLOSING.finditer(text)]


def defused(text: str) -> str:
    """``text`` with the space after each closing keyword shown as ``␠``: no host closes an
    issue from it, a reader still sees what it said."""
    return _CLOSING.sub(lambda m: m.group(1) + DEFUSED_SPACE, text)


def code(text: object, limit: int = SHOWN_MAX) -> str:
    """``text`` (visible, defused) as a CommonMark inline code span; ``—`` when empty."""
    shown = defused(visible(text, limit))
    if not shown:
        return "—"
    longest = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    fence = "`" * (longest + 1)
    if shown[0] in "` " or shown[-1] in "` ":
        shown = f" {shown} "  # CommonMark strips one space from each side
    return f"{fence}{shown}{fence}"


def cell(text: object, limit: int = SHOWN_MAX) -> str:
    """:func:`code` for a GFM table cell: ``|`` escaped, which splits cells even in code."""
    return code(text, limit).replace("|", "\\|")


def vulnerability_id(text: str) -> bool:
    """Whether ``text`` is a vulnerability identifier of a known scheme (CVE, GHSA, OSV
    ecosystems, distribution advisories), and nothing else."""
    return len(text) <= VULNERABILITY_ID_MAX and _VULNERABILITY_ID.fullmatch(text) is not None


def name_token(text: str) -> bool:
    """A plain package name: letters, digits and ``. _ + -``, starting alphanumeric (no
    space, ``@``, ``/``, ``#`` or ``:``, so it cannot mention, reference or link)."""
    return text.isascii() and _NAME_TOKEN.fullmatch(text) is not None


def version_token(text: str) -> bool:
    """A plain version: ``[epoch:]`` then a digit, then letters, digits and ``. _ + ~ ^ -``."""
    return text.isascii() and _VERSION_TOKEN.fullmatch(text) is not None


def image_reference(text: str) -> bool:
    """Whether ``text`` is ``[registry/]repository[:tag]`` by the distribution spec's
    grammar (no digest), at most 255 characters."""
    return len(text) <= 255 and text.isascii() and _IMAGE.fullmatch(text) is not None


__all__ = [
    "cell",
    "closing_statements",
    "code",
    "defused",
    "image_reference",
    "name_token",
    "version_token",
    "visible",
    "vulnerability_id",
]
