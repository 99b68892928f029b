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
from datetime import date, datetime
from typing import IO

CVE_ID = re.compile(r"CVE-\d{4}-\d{4,}")
GZIP_MAGIC = b"\x1f\x8b"
EXAMPLES = 5
"""How many skipped rows are named (all are counted)."""


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


def text_lines(stream: IO[bytes]) -> Iterator[str]:
    """The lines of a UTF-8 file, gunzipped when it starts with gzip's magic bytes.

    A corrupt or truncated gzip stream, or bytes that are not UTF-8, raise
    :class:`ThreatIntelFormatError` when reached.
    """
    buffered = io.BufferedReader(stream) if not hasattr(stream, "peek") else stream
    raw: IO[bytes] = buffered
    if buffered.peek(2)[:2] == GZIP_MAGIC:  # type: ignore[attr-defined]
        raw = gzip.GzipFile(fileobj=buffered, mode="rb")
    text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    try:
        yield from text
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


def _unit(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None


class EpssReader:
    """An EPSS file: ``model_version`` and ``score_date`` from its first line, then its
    rows, yielded by iterating (once). Bad rows go to ``skipped``."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self.model_version = ""
        self.score_date: date | None = None
        self.skipped = Skipped()
        self.line = 0
        first = self._next()
        if first is None:
            raise ThreatIntelFormatError("epss: the file is empty")
        if first.startswith("#"):
            for part in first.lstrip("#").split(","):
                key, _, value = part.partition(":")
                if key.strip() == "model_version":
                    self.model_version = value.strip()
                elif key.strip() == "score_date":
                    self.score_date = _score_date(value)
            first = self._next()
        columns = next(csv.reader([first or ""]), [])
        names = [c.strip().lower() for c in columns]
        missing = [c for c in ("cve", "epss", "percentile") if c not in names]
        if missing:
            raise ThreatIntelFormatError(
                f"epss: line {self.line}: expected the header 'cve,epss,percentile', "
                f"found {(first or '').strip()[:80]!r}"
            )
        self._at = (names.index("cve"), names.index("epss"), names.index("percentile"))
        self._width = len(names)

    def _next(self) -> str | None:
        for line in self._lines:
            self.line += 1
            if line.strip():
                return line.rstrip("\r\n")
        return None

    def __iter__(self) -> Iterator[EpssScore]:
        cve_at, score_at, percentile_at = self._at
        while (line := self._next()) is not None:
            row = line.split(",")
            if len(row) != self._width:
                self.skipped.add(f"line {self.line}", f"{len(row)} fields, expected {self._width}")
                continue
            cve = row[cve_at].strip().upper()
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


def _iso_date(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def parse_kev(data: bytes) -> KevCatalog:
    """The catalogue's entries; a document without ``vulnerabilities[]`` is refused."""
    try:
        document = json.loads(data)
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
                name=str(item.get("vulnerabilityName") or "")[:300],
                date_added=added,
                due_date=_iso_date(item.get("dueDate")),
                ransomware=str(item.get("knownRansomwareCampaignUse") or "")[:20],
            )
    return KevCatalog(
        version=str(document.get("catalogVersion") or "")[:50],
        released=str(document.get("dateReleased") or "")[:50],
        entries=tuple(entries.values()),
        skipped=skipped,
    )
