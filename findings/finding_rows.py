"""A finding as ingest reads and writes it: named rows whose fields are the columns.

Each row is a NamedTuple, so it is a tuple: it goes to ``findings.bulk`` as the SQL
parameters as it is, its type's ``_fields`` name the columns, and a ``FindingKey``
hashes and compares as the plain tuple of its values. A written row holds
``locations`` as JSON text (``FindingContent.columns``).
"""

from __future__ import annotations

import json
from datetime import datetime
from operator import attrgetter
from typing import NamedTuple

from remediator.core.severity import SEVERITY_RANK

from .models import clip
from .parsers.base import ParsedFinding

UNKNOWN_TYPE = "unknown"


def package_type_of(parsed: ParsedFinding) -> str:
    return clip(parsed.package_type or UNKNOWN_TYPE, 32)


class FindingKey(NamedTuple):
    """A finding's identity in its tag stream; the package type is not part of it."""

    vulnerability_id: str
    package: str
    installed_version: str

    @classmethod
    def of(cls, parsed: ParsedFinding) -> FindingKey:
        return cls(
            clip(parsed.vulnerability_id, 100),
            clip(parsed.package, 300),
            clip(parsed.installed_version, 200),
        )


class FindingContent(NamedTuple):
    """What the newest scan says about a finding: the columns a re-scan may change."""

    package_type: str
    severity: str
    severity_rank: int
    fixed_version: str
    fixable: bool
    cvss_score: float | None
    vendor_status: str
    locations: list[str]

    @classmethod
    def of(cls, parsed: ParsedFinding, *, known_type: str = UNKNOWN_TYPE) -> FindingContent:
        """What ``parsed`` says; a known ecosystem (``known_type``) wins over unknown."""
        package_type = package_type_of(parsed)
        return cls(
            known_type if package_type == UNKNOWN_TYPE else package_type,
            parsed.severity,
            SEVERITY_RANK.get(parsed.severity, 0),
            clip(", ".join(parsed.fixed_versions), 300),
            bool(parsed.fixed_versions),
            parsed.cvss_score,
            clip(parsed.vendor_status, 32),
            list(parsed.locations)[:50],
        )

    def columns(self) -> tuple:
        """Its values as written, in field order: ``locations`` as JSON text."""
        return (
            self.package_type,
            self.severity,
            self.severity_rank,
            self.fixed_version,
            self.fixable,
            self.cvss_score,
            self.vendor_status,
            json.dumps(self.locations),
        )


def _fields(*parts: type[tuple] | tuple[str, object]) -> list[tuple[str, object]]:
    """The (name, type) of each field of ``parts``, in order: each a NamedTuple type (all
    its fields) or one (name, type)."""
    fields: list[tuple[str, object]] = []
    for part in parts:
        fields += part.__annotations__.items() if isinstance(part, type) else [part]
    return fields


_key_of = attrgetter(*FindingKey._fields)
_content_of = attrgetter(*FindingContent._fields)


class StoredFinding(
    NamedTuple(
        "StoredFinding",
        _fields(
            ("id", int),
            FindingKey,
            FindingContent,
            ("status", str),
            ("fixable_since", datetime | None),
            ("first_seen", datetime),
            ("last_seen", datetime),
        ),
    )
):
    """A finding of the tag as ingest reads it (``values_list(*StoredFinding._fields)``):
    its id, key, content, status, when it became fixable, first and last sighting."""

    __slots__ = ()

    def key(self) -> FindingKey:
        return FindingKey._make(_key_of(self))

    def content(self) -> FindingContent:
        return FindingContent._make(_content_of(self))


class NewFinding(
    NamedTuple(
        "NewFinding",
        _fields(FindingKey, FindingContent, ("fixable_since", datetime | None)),
    )
):
    """A finding a scan lists for the first time, as inserted: its key, its content as
    written (``FindingContent.columns``) and when it became fixable. What every new finding
    of the scan shares (tag, status, sightings) goes beside: ``rows_insert(same=...)``."""

    __slots__ = ()

    @classmethod
    def of(cls, key: FindingKey, content: FindingContent, *, at: datetime) -> NewFinding:
        """First seen at ``at``: fixable since then when a fix is known."""
        return cls(*key, *content.columns(), fixable_since=at if content.fixable else None)


class FindingUpdate(
    NamedTuple(
        "FindingUpdate",
        _fields(
            FindingContent,
            ("fixable_since", datetime | None),
            ("first_seen", datetime),
            ("last_seen", datetime),
            ("last_scan_id", int | None),
            ("id", int),
        ),
    )
):
    """A stored finding's new values by ``id`` (last, as ``rows_update`` wants it): its
    content as written (``FindingContent.columns``), when it became fixable, its first and
    last sighting, and ``last_scan_id``: the scan that moved its last sighting, or None
    when the scan did not (the stored one stays: ``SIGHTING_KEPT``)."""

    __slots__ = ()

    @classmethod
    def of(
        cls,
        content: FindingContent,
        *,
        fixable_since: datetime | None,
        first_seen: datetime,
        last_seen: datetime,
        last_scan_id: int | None,
        id: int,
    ) -> FindingUpdate:
        return cls(
            *content.columns(),
            fixable_since=fixable_since,
            first_seen=first_seen,
            last_seen=last_seen,
            last_scan_id=last_scan_id,
            id=id,
        )


SIGHTING_KEPT = tuple(column for column in FindingUpdate._fields if column != "last_scan_id")
"""The columns of an update that leaves the stored last sighting (``last_scan_id``) as it is."""
