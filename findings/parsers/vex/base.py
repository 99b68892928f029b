"""The common shape of a VEX document, whatever its format. Pure Python: no Django.

A vendor's VEX document says, per vulnerability and product, whether the product is
affected. The three formats (OpenVEX, CSAF 2.0, CycloneDX) are read into one
:class:`VexDocument` of :class:`VexStatement` rows, the status and justification
normalised to OpenVEX's vocabulary (the original justification is kept beside it).
Every failure is a :class:`~findings.parsers.base.ParseError` naming the path in the
document (``statements[3].status``) and what was wrong there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ..base import ParseError
from ..fields import clean, type_name

NOT_AFFECTED, AFFECTED, FIXED, UNDER_INVESTIGATION = (
    "not_affected",
    "affected",
    "fixed",
    "under_investigation",
)
STATUSES = (NOT_AFFECTED, AFFECTED, FIXED, UNDER_INVESTIGATION)
"""OpenVEX's four statuses: every format's status is read as one of them."""
JUSTIFICATIONS = (
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
)
"""OpenVEX's justifications (CISA's Status Justifications, June 2022); CSAF's flag
labels are the same five."""
MAX_STATEMENTS = 20_000
"""More statements than this in one document is refused: a bound on the rows written."""
MAX_DEPTH = 64
"""JSON nested deeper than this is refused before it is read."""
MAX_TEXT = 2_000
"""Impact and action texts longer than this are cut (marked by an ellipsis)."""
MAX_IDS = 500
"""Products (or subcomponents) kept per statement; more is refused."""


@dataclass(frozen=True)
class VexProduct:
    """A product a statement is about: a purl (or another identifier: a CPE, a CSAF
    product id, a CycloneDX bom-ref) and the subcomponents of it the statement means."""

    id: str
    subcomponents: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"id": self.id, "subcomponents": list(self.subcomponents)}


@dataclass(frozen=True)
class VexStatement:
    vulnerability_id: str
    status: str
    """One of STATUSES."""
    aliases: tuple[str, ...] = ()
    justification: str = ""
    """One of JUSTIFICATIONS, when the document's own justification maps to one."""
    original_justification: str = ""
    """The justification as the document wrote it (a CycloneDX or CSAF label)."""
    impact: str = ""
    """Why the product is not affected, as free text (OpenVEX impact_statement, CSAF
    threats of category impact, CycloneDX analysis.detail)."""
    action: str = ""
    """What to do for an affected product (OpenVEX action_statement, CSAF remediations,
    CycloneDX analysis.response)."""
    products: tuple[VexProduct, ...] = ()
    timestamp: datetime | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        """The vulnerability id and its aliases."""
        return (self.vulnerability_id, *self.aliases)

    @property
    def subcomponents(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for p in self.products for s in p.subcomponents))


@dataclass(frozen=True)
class VexDocument:
    format: str
    """openvex, csaf or cyclonedx."""
    document_id: str
    """The document's own id (OpenVEX @id, CSAF tracking.id, CycloneDX serialNumber)."""
    author: str
    """Who makes the statements: OpenVEX author, CSAF publisher, CycloneDX manufacturer,
    supplier or first author."""
    timestamp: datetime | None
    version: str
    """As the document writes it: an integer (OpenVEX, CycloneDX) or a CSAF version."""
    statements: tuple[VexStatement, ...]
    spec_version: str = ""
    """The format's version: the OpenVEX context, CSAF's csaf_version, CycloneDX's
    specVersion."""
    link: str = ""
    """Where the document says it lives, when it is a URL."""

    @property
    def version_key(self) -> tuple[int, ...]:
        return version_key(self.version)


def version_key(version: str) -> tuple[int, ...]:
    """A version's numbers, for ordering: '2' < '10', '1.0.1' < '1.1.0'; () when none."""
    return tuple(int(part) for part in re.findall(r"\d+", version)[:8])


class Path:
    """Where a value sits in the document, for error messages: ``statements[2].status``."""

    def __init__(self, fmt: str, text: str = "") -> None:
        self.fmt, self.text = fmt, text

    def __truediv__(self, key: str | int) -> Path:
        if isinstance(key, int):
            return Path(self.fmt, f"{self.text}[{key}]")
        return Path(self.fmt, f"{self.text}.{key}" if self.text else key)

    def error(self, problem: str) -> ParseError:
        where = self.text or "the document"
        return ParseError(f"{self.fmt}: {where}: {problem}")

    def expected(self, what: str, found: object) -> ParseError:
        return self.error(f"expected {what}, found {type_name(found)}")


def need_dict(value: object, path: Path) -> dict:
    if not isinstance(value, dict):
        raise path.expected("an object", value)
    return value


def need_list(value: object, path: Path, *, optional: bool = False) -> list:
    if value is None and optional:
        return []
    if not isinstance(value, list):
        raise path.expected("a list", value)
    return value


def need_text(value: object, path: Path, *, optional: bool = False) -> str:
    """A string field's text; a wrong type (or a missing required one) is refused."""
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise path.expected("a string", value)
    found = clean(value)
    if not found and not optional:
        raise path.error("is empty")
    return found


def opt_text(value: object, path: Path) -> str:
    return need_text(value, path, optional=True)


def cut(text: str, length: int = MAX_TEXT) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def timestamp(value: object, path: Path) -> datetime | None:
    """An RFC 3339 timestamp (nanoseconds allowed, as Go writes them); None when absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise path.expected("an RFC 3339 timestamp", value)
    text = value.strip()
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # Go writes nanoseconds
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise path.error(f"not an RFC 3339 timestamp: {value[:60]!r}") from None
    if parsed.tzinfo is None:
        raise path.error(f"timestamp without a time zone: {value[:60]!r}")
    return parsed


def bounded(items: list, path: Path, limit: int, what: str) -> list:
    if len(items) > limit:
        raise path.error(f"{len(items)} {what}: more than the {limit} accepted")
    return items
