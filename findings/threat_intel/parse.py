"""The FIRST EPSS CSV and the CISA KEV JSON, read into plain values. Pure: no Django.

EPSS (https://www.first.org/epss/data_stats): gzip or plain text, a first line
``#model_version:v2023.03.01,score_date:2024-01-15T00:00:00+0000`` (older files
lack it), then ``cve,epss,percentile`` and ~300,000 rows. It is streamed: rows are
yielded one by one, never held in memory together.

KEV (https://www.cisa.gov/known-exploited-vulnerabilities-catalog): one JSON
object with ``catalogVersion``, ``dateReleased`` and ``vulnerabilities[]``.

A file that is not of its format raises :class:`ThreatIntelFormatError` (nothing of
it may be imported); a row that cannot be read (a bad CVE id, a score outside 0..1,
a missing date) is skipped and counted in ``Skipped``, with the first few named.
Whether a readable file is a believable snapshot is ``sanity``'s question.

Bounds, so that a hostile file costs little: a line longer than ``MAX_LINE`` chars or
more than ``MAX_TEXT_BYTES`` of (decompressed) text or ``MAX_BLANK_LINES`` empty lines
is a format error, which also stops a gzip bomb; text taken from an entry loses its
control characters.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import IO

CVE_ID = re.compile(r"CVE-\d{4}-\d{4,}")
GZIP_MAGIC = b"\x1f\x8b"
EXAMPLES = 5
"""How many skipped rows are named (all are counted)."""
MAX_LINE = 4096
"""A real EPSS row is ~35 characters, its header line ~60."""
MAX_TEXT_BYTES = 64 * 1024 * 1024
"""The real EPSS file is ~10 MB of text (300,000 rows); KEV's catalogue ~1.5 MB."""
MAX_BLANK_LINES = 1000
"""Real files end with at most one; a file of newlines (a gzip bomb) stops here."""
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
BOM = "\ufeff"


def clean_text(value: object, limit: int) -> str:
    """A feed's free text as data: a string without control characters, cut to ``limit``."""
    return CONTROL.sub(" ", str(value or ""))[:limit].strip()


class ThreatIntelFormatError(ValueError):
    """The file is not an EPSS CSV / KEV catalogue; the message says where and why."""


@dataclass
class Skipped:
    """Rows left out, counted; the first ``EXAMPLES`` named by line (or entry) and reason."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, where: str, reason: str) -> None:
        self.count += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(f"{where}: {reason}")


def text_lines(
    stream: IO[bytes], *, max_line: int = MAX_LINE, max_bytes: int = MAX_TEXT_BYTES
) -> Iterator[str]:
    """The lines of a UTF-8 file, gunzipped when it starts with gzip's magic bytes.

    A corrupt or truncated gzip stream, bytes that are not UTF-8, a line longer than
    ``max_line`` characters or more than ``max_bytes`` of text raise
    :class:`ThreatIntelFormatError` when reached.
    """
    buffered = io.BufferedReader(stream) if not hasattr(stream, "peek") else stream
    raw: IO[bytes] = buffered
    if buffered.peek(2)[:2] == GZIP_MAGIC:  # type: ignore[attr-defined]
        raw = gzip.GzipFile(fileobj=buffered, mode="rb")
    text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    size = 0
    number = 0
    try:
        while line := text.readline(max_line + 1):
            number += 1
            size += len(line)
            if len(line.rstrip("\r\n")) > max_line:
                raise ThreatIntelFormatError(f"epss: line {number} is longer than {max_line} chars")
            if size > max_bytes:
                raise ThreatIntelFormatError(f"epss: the file is larger than {max_bytes} bytes")
            yield line
    except (OSError, EOFError, zlib.error) as exc:
        raise ThreatIntelFormatError(f"epss: the file is not readable gzip: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ThreatIntelFormatError(f"epss: the file is not UTF-8 text: {exc}") from exc


@dataclass(frozen=True)
class EpssScore:
    cve: str
    score: float
    """Probability of exploitation activity in the next 30 days, 0..1."""
    percentile: float


def _score_date(text: str) -> date | None:
    text = text.strip()
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def day_start(day: date | None) -> datetime | None:
    """Midnight UTC of ``day``: EPSS snapshots are compared by their score date."""
    return None if day is None else datetime.combine(day, time(0), tzinfo=UTC)


def release_time(value: object) -> datetime | None:
    """KEV's ``dateReleased`` (``2025-08-25T17:04:19.9796Z``) as an aware datetime."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return day_start(_iso_date(text))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _unit(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None


class EpssReader:
    """An EPSS file: ``model_version`` and ``score_date`` from its first line, then its
    rows, yielded by iterating (once). Bad rows go to ``skipped``. A first line that
    starts like FIRST's (``#model_version:``) must carry a readable ``score_date``: the
    date is what says whether a snapshot is older than the one it would replace."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self.model_version = ""
        self.score_date: date | None = None
        self.skipped = Skipped()
        self.line = 0
        first = self._next()
        if first is None:
            raise ThreatIntelFormatError("epss: the file is empty")
        first = first.removeprefix(BOM)
        header_line = first.startswith("#")
        if header_line:
            for part in first.lstrip("#").split(","):
                key, _, value = part.partition(":")
                if key.strip() == "model_version":
                    self.model_version = value.strip()
                elif key.strip() == "score_date":
                    self.score_date = _score_date(value)
            first = self._next()
        columns = next(csv.reader([(first or "").removeprefix(BOM)]), [])
        names = [c.strip().lower() for c in columns]
        missing = [c for c in ("cve", "epss", "percentile") if c not in names]
        if missing:
            raise ThreatIntelFormatError(
                f"epss: line {self.line}: expected the header 'cve,epss,percentile', "
                f"found {(first or '').strip()[:80]!r}"
            )
        if header_line and self.score_date is None:
            raise ThreatIntelFormatError(
                "epss: line 1: the '#model_version:…,score_date:…' line has no readable score_date"
            )
        self.model_version = clean_text(self.model_version, 40)
        self._at = (names.index("cve"), names.index("epss"), names.index("percentile"))
        self._width = len(names)

    def _next(self) -> str | None:
        for blank, line in enumerate(self._lines):
            self.line += 1
            if line.strip():
                return line.rstrip("\r\n")
            if blank >= MAX_BLANK_LINES:
                raise ThreatIntelFormatError(
                    f"epss: line {self.line}: more than {MAX_BLANK_LINES} empty lines"
                )
        return None

    def __iter__(self) -> Iterator[EpssScore]:
        cve_at, score_at, percentile_at = self._at
        while (line := self._next()) is not None:
            row = [field.strip().strip('"') for field in line.split(",")]
            if len(row) != self._width:
                self.skipped.add(f"line {self.line}", f"{len(row)} fields, expected {self._width}")
                continue
            cve = row[cve_at].upper()
            score, percentile = _unit(row[score_at]), _unit(row[percentile_at])
            if not CVE_ID.fullmatch(cve):
                self.skipped.add(f"line {self.line}", f"{row[cve_at][:40]!r} is not a CVE id")
            elif score is None or percentile is None:
                self.skipped.add(f"line {self.line}", "score or percentile is not within 0..1")
            else:
                yield EpssScore(cve, score, percentile)


@dataclass(frozen=True)
class KevEntry:
    cve: str
    name: str
    date_added: date
    due_date: date | None
    ransomware: str
    """knownRansomwareCampaignUse: "Known" or "Unknown"."""


@dataclass(frozen=True)
class KevCatalog:
    version: str
    released: str
    entries: tuple[KevEntry, ...]
    skipped: Skipped
    listed: int = 0
    """Items in ``vulnerabilities[]``, readable or not (what ``count`` should say)."""
    declared: int | None = None
    """The catalogue's own ``count``; -1 when present but not a whole number >= 0."""

    @property
    def released_at(self) -> datetime | None:
        return release_time(self.released)


def _iso_date(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def parse_kev(data: bytes) -> KevCatalog:
    """The catalogue's entries; a document without ``vulnerabilities[]`` is refused."""
    if len(data) > MAX_TEXT_BYTES:
        raise ThreatIntelFormatError(f"kev: the file is larger than {MAX_TEXT_BYTES} bytes")
    try:
        document = json.loads(data.removeprefix(BOM.encode()))
    except (ValueError, RecursionError) as exc:
        raise ThreatIntelFormatError(f"kev: the file is not JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("vulnerabilities"), list):
        raise ThreatIntelFormatError(
            "kev: expected CISA's catalogue, an object with a 'vulnerabilities' list"
        )
    skipped = Skipped()
    entries: dict[str, KevEntry] = {}
    for index, item in enumerate(document["vulnerabilities"]):
        where = f"vulnerabilities[{index}]"
        if not isinstance(item, dict):
            skipped.add(where, "not an object")
            continue
        cve = str(item.get("cveID") or "").strip().upper()
        added = _iso_date(item.get("dateAdded"))
        if not CVE_ID.fullmatch(cve):
            skipped.add(where, f"cveID {cve[:40]!r} is not a CVE id")
        elif added is None:
            skipped.add(where, f"{cve}: dateAdded is not a date")
        else:
            entries[cve] = KevEntry(
                cve=cve,
                name=clean_text(item.get("vulnerabilityName"), 300),
                date_added=added,
                due_date=_iso_date(item.get("dueDate")),
                ransomware=clean_text(item.get("knownRansomwareCampaignUse"), 20),
            )
    return KevCatalog(
        version=clean_text(document.get("catalogVersion"), 50),
        released=clean_text(document.get("dateReleased"), 50),
        entries=tuple(entries.values()),
        skipped=skipped,
        listed=len(document["vulnerabilities"]),
        declared=_declared_count(document),
    )


def _declared_count(document: dict) -> int | None:
    """The catalogue's ``count``: None when absent, -1 when not a whole number >= 0."""
    if "count" not in document:
        return None
    count = document["count"]
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        return -1
    return count
