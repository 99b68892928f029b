"""A finding as ingest reads and writes it, in named rows (``findings.rows``).

``FindingKey`` and ``FindingContent`` are what a report says of a finding: its identity in
the tag stream, and what a re-scan may change. ``StoredFinding`` is a finding as ingest
reads it; ``NewFinding`` and ``FindingUpdate`` are what it inserts and updates, made of
those parts (``fields_of``), ``locations`` as JSON text.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import starmap

from django.db.models import QuerySet
from msgspec import defstruct
from msgspec.structs import astuple

from remediator.core.severity import SEVERITY_RANK

from .models import Finding, clip
from .parsers.base import ParsedFinding
from .rows import Row, columns_getter, fields_of, json_text

UNKNOWN_TYPE = "unknown"


def package_type_of(parsed: ParsedFinding) -> str:
    return clip(parsed.package_type or UNKNOWN_TYPE, 32)


class FindingKey(Row):
    """A finding's identity in its tag stream; the package type is not part of it."""

    vulnerability_id: str
    package: str
    installed_version: str

    @classmethod
    def of(cls, parsed: ParsedFinding) -> FindingKey:
        return cls(
            vulnerability_id=clip(parsed.vulnerability_id, 100),
            package=clip(parsed.package, 300),
            installed_version=clip(parsed.installed_version, 200),
        )


class FindingContent(Row):
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
            package_type=known_type if package_type == UNKNOWN_TYPE else package_type,
            severity=parsed.severity,
            severity_rank=SEVERITY_RANK.get(parsed.severity, 0),
            fixed_version=clip(", ".join(parsed.fixed_versions), 300),
            fixable=bool(parsed.fixed_versions),
            cvss_score=parsed.cvss_score,
            vendor_status=clip(parsed.vendor_status, 32),
            locations=list(parsed.locations)[:50],
        )

    def columns(self) -> tuple:
        """Its values as written, in field order: ``locations`` (the last) as JSON text."""
        *values, locations = astuple(self)
        return (*values, json_text(locations))


_stored_fields = fields_of(
    ("id", int),
    FindingKey,
    FindingContent,
    ("status", str),
    ("fixable_since", datetime | None),
    ("first_seen", datetime),
    ("last_seen", datetime),
)


class StoredFinding(defstruct("StoredFinding", _stored_fields, bases=(Row,), module=__name__)):
    """A finding as ingest reads it: its id, key, content, status, when it became fixable,
    first and last sighting."""

    @classmethod
    def read(cls, findings: QuerySet[Finding]) -> Iterator[StoredFinding]:
        """``findings`` as stored rows, in one query."""
        return starmap(cls, findings.values_list(*cls.__struct_fields__))

    @property
    def key(self) -> FindingKey:
        return FindingKey(
            vulnerability_id=self.vulnerability_id,
            package=self.package,
            installed_version=self.installed_version,
        )

    @property
    def content(self) -> FindingContent:
        return FindingContent(
            package_type=self.package_type,
            severity=self.severity,
            severity_rank=self.severity_rank,
            fixed_version=self.fixed_version,
            fixable=self.fixable,
            cvss_score=self.cvss_score,
            vendor_status=self.vendor_status,
            locations=self.locations,
        )


_new_fields = fields_of(
    FindingKey, FindingContent, ("locations", str), ("fixable_since", datetime | None)
)


class NewFinding(defstruct("NewFinding", _new_fields, bases=(Row,), module=__name__)):
    """A finding a scan lists for the first time, as inserted: its key, its content as
    written and when it became fixable. What every new finding of the scan shares (tag,
    status, sightings) goes beside: ``rows_insert(same=...)``."""

    @classmethod
    def of(cls, key: FindingKey, content: FindingContent, *, at: datetime) -> NewFinding:
        """First seen at ``at``: fixable since then when a fix is known."""
        return cls(
            *astuple(key),
            *content.columns(),
            fixable_since=at if content.fixable else None,
        )

    @staticmethod
    def values(key: FindingKey, parsed: ParsedFinding, at: datetime, shared: tuple) -> tuple:
        """``astuple(NewFinding.of(key, FindingContent.of(parsed), at=at)) + shared``, built
        straight: a report's new findings are tens of thousands of these."""
        severity, fixed, locations = parsed.severity, parsed.fixed_versions, parsed.locations
        return (
            key.vulnerability_id,
            key.package,
            key.installed_version,
            clip(parsed.package_type or UNKNOWN_TYPE, 32),
            severity,
            SEVERITY_RANK.get(severity, 0),
            clip(", ".join(fixed), 300),
            bool(fixed),
            parsed.cvss_score,
            clip(parsed.vendor_status, 32),
            json_text(locations[:50]) if locations else "[]",
            at if fixed else None,
            *shared,
        )


_update_fields = fields_of(
    FindingContent,
    ("locations", str),
    ("fixable_since", datetime | None),
    ("first_seen", datetime),
    ("last_seen", datetime),
    ("last_scan_id", int | None),
    ("id", int),
)


class FindingUpdate(defstruct("FindingUpdate", _update_fields, bases=(Row,), module=__name__)):
    """A stored finding's new values by ``id`` (last, as ``rows_update`` wants it): its
    content as written, when it became fixable, its first and last sighting, and
    ``last_scan_id``: the scan that moved its last sighting, or None when the scan did not
    (the stored one stays: ``SIGHTING_KEPT``)."""

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


SIGHTING_KEPT = tuple(c for c in FindingUpdate.__struct_fields__ if c != "last_scan_id")
"""The columns of an update that leaves the stored last sighting (``last_scan_id``) as it is."""
sighting_kept = columns_getter(FindingUpdate.__struct_fields__, SIGHTING_KEPT)
"""An update's SIGHTING_KEPT values, from ``astuple(update)``."""
