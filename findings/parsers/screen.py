"""One check of report text at the parser boundary, for every format.

After a parser has built its findings, :func:`screen` looks at each finding's
identifiers: the vulnerability id, the package name, the installed and fixed versions,
the package type and the locations (package paths). Those are the names Remediator
matches on, shows, and writes into Dockerfiles, branch names and pull requests; a
report is input from the network and the image author controls the package database
it was read from. A finding is refused (left out of the scan) when one of them holds
an unsafe character (``remediator.core.textsafe``: control characters, line and
paragraph separators, bidirectional and zero-width characters), is longer than its
bound, or, for the vulnerability id, does not have the shape of an advisory id. The
rest of the report is kept. The scan says how many were refused and why (the first
``REFUSAL_EXAMPLES``, each naming the field and showing the value escaped).

Free text (titles, descriptions, links) is not refused: it is data, kept storable by
``fields.clean`` and quoted wherever it is written. Pure Python: no Django.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from remediator.core.textsafe import codepoint, first_unsafe, shown

from .base import ParsedFinding, ParsedScan

REFUSAL_EXAMPLES = 10
"""How many refusal reasons a scan keeps (the count is always exact)."""

# Bounds: the database columns (findings.models.Finding, Vulnerability). The longest values
# in the real reports of tests/fixtures are 19 (id), 65 (package), 21 (installed version),
# 23 (fixed version) and 72 (location) characters; a longer value would be cut to fit
# its column, and two cut names could merge into one finding.
MAX_ID = 100
MAX_PACKAGE = 300
MAX_VERSION = 200
MAX_PACKAGE_TYPE = 32
MAX_LOCATION = 4096
"""A location is a file path or a Trivy target: Linux's PATH_MAX."""

ADVISORY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+/#-]*")
"""CVE-2024-3094, GHSA-xxxx-xxxx-xxxx, RHSA-2024:1234, openSUSE-SU-2024:0001-1,
TEMP-0841856-B18BAF, SNYK-JS-LODASH-567746, ALASKERNEL-5.10-2022-001, npm:lodash:20180130:
letters, digits and ``. _ : + / # -``, starting with a letter or digit."""


def _character(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cc":
        kind = "a control character"
    elif category in ("Zl", "Zp"):
        kind = "a line separator"
    elif category == "Cs":
        kind = "a lone surrogate"
    else:
        kind = "an invisible formatting character"
    return f"{kind} {codepoint(char)}"


def text_problem(label: str, value: str, limit: int) -> str | None:
    """Why ``value`` cannot be an identifier, or None."""
    if len(value) > limit:
        return f"{label} {shown(value)} is {len(value)} characters long (at most {limit})"
    char = first_unsafe(value)
    if char is not None:
        return f"{label} {shown(value)} has {_character(char)}"
    return None


def id_problem(value: str) -> str | None:
    """Why ``value`` cannot be a vulnerability id, or None."""
    problem = text_problem("vulnerability id", value, MAX_ID)
    if problem is None and not ADVISORY_ID.fullmatch(value):
        problem = (
            f"vulnerability id {shown(value)} is not an advisory id "
            "(letters, digits and . _ : + / # -)"
        )
    return problem


def _sound(finding: ParsedFinding) -> bool:
    """The common case in one pass: every identifier printable ASCII within its bound and
    an advisory-shaped id (a 20,000-finding report takes a few milliseconds)."""
    vuln_id, fixed, locations = finding.vulnerability_id, finding.fixed_versions, finding.locations
    joined = (
        vuln_id + finding.package + finding.installed_version + finding.package_type
        + "".join(fixed) + "".join(locations)
    )  # fmt: skip
    return (
        joined.isascii()
        and joined.isprintable()
        and len(vuln_id) <= MAX_ID
        and len(finding.package) <= MAX_PACKAGE
        and len(finding.installed_version) <= MAX_VERSION
        and len(finding.package_type) <= MAX_PACKAGE_TYPE
        and max(map(len, fixed), default=0) <= MAX_VERSION
        and max(map(len, locations), default=0) <= MAX_LOCATION
        and ADVISORY_ID.fullmatch(vuln_id) is not None
    )


def finding_problem(finding: ParsedFinding) -> str | None:
    """Why ``finding`` is refused, or None when its identifiers are sound."""
    if _sound(finding):
        return None
    problem = id_problem(finding.vulnerability_id)
    if problem is not None:
        return problem
    fields = (
        ("package", finding.package, MAX_PACKAGE),
        ("installed version", finding.installed_version, MAX_VERSION),
        ("package type", finding.package_type, MAX_PACKAGE_TYPE),
        *(("fixed version", version, MAX_VERSION) for version in finding.fixed_versions),
        *(("location", location, MAX_LOCATION) for location in finding.locations),
    )
    for label, value, limit in fields:
        problem = text_problem(label, value, limit)
        if problem is not None:
            return f"{finding.vulnerability_id}: {problem}"
    return None


def screen(scan: ParsedScan) -> ParsedScan:
    """``scan`` without the findings whose identifiers are refused, counting them."""
    kept: list[ParsedFinding] = []
    reasons: list[str] = []
    refused = 0
    for finding in scan.findings:
        problem = finding_problem(finding)
        if problem is None:
            kept.append(finding)
            continue
        refused += 1
        if len(reasons) < REFUSAL_EXAMPLES:
            reasons.append(problem)
    if not refused:
        return scan
    return replace(
        scan,
        findings=tuple(kept),
        refused=scan.refused + refused,
        refusals=(*scan.refusals, *reasons)[:REFUSAL_EXAMPLES],
    )
