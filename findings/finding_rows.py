"""A finding as ingest reads and writes it: named rows whose fields are the columns.

Each row is a NamedTuple, so it is a tuple: it goes to ``findings.bulk`` as the SQL
parameters as it is, its type's ``_fields`` name the columns, and a ``FindingKey``
hashes and compares as the plain tuple of its values. A written row holds
``locations`` as JSON text (``FindingContent.columns``).

The rows a report makes, one or more per finding, are built by each type's ``of`` with
``tuple.__new__(cls, values)``, as a NamedTuple's ``_make`` does: the generated
``__new__`` parses its arguments first, which costs more than the tuple itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import NamedTuple

from django.db.models import QuerySet

from remediator.core.severity import SEVERITY_RANK

from .bulk import columns_getter, fields_of, json_text
from .models import Finding, clip
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
        return tuple.__new__(
            cls,
            (
                clip(parsed.vulnerability_id, 100),
                clip(parsed.package, 300),
                clip(parsed.installed_version, 200),
            ),
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
        return tuple.__new__(
            cls,
            (
                known_type if package_type == UNKNOWN_TYPE else package_type,
                parsed.severity,
                SEVERITY_RANK.get(parsed.severity, 0),
                clip(", ".join(parsed.fixed_versions), 300),
                bool(parsed.fixed_versions),
                parsed.cvss_score,
                clip(parsed.vendor_status, 32),
                list(parsed.locations)[:50],
            ),
        )

    def columns(self) -> tuple:
        """Its values as written, in field order: ``locations`` (the last) as JSON text."""
        *values, locations = self
        return (*values, json_text(locations))


class StoredFinding(
    NamedTuple(
        "StoredFinding",
        fields_of(
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
    """A finding as ingest reads it: its id, key, content, status, when it became fixable,
    first and last sighting."""

    __slots__ = ()

    @classmethod
    def read(cls, findings: QuerySet[Finding]) -> Iterator[StoredFinding]:
        """``findings`` as stored rows, in one query."""
        return map(partial(tuple.__new__, cls), findings.values_list(*cls._fields))


stored_key = columns_getter(StoredFinding, FindingKey._fields)
"""A stored finding's key: a plain tuple, equal to its FindingKey (the same hash)."""
stored_content = columns_getter(StoredFinding, FindingContent._fields)
"""A stored finding's content: a plain tuple, equal to its FindingContent."""


class NewFinding(
    NamedTuple(
        "NewFinding",
        fields_of(FindingKey, FindingContent, ("fixable_since", datetime | None)),
    )
):
    """A finding a scan lists for the first time, as inserted: its key, its content as
    written (``FindingContent.columns``) and when it became fixable. What every new finding
    of the scan shares (tag, status, sightings) goes beside: ``rows_insert(same=...)``."""

    __slots__ = ()

    @classmethod
    def of(cls, key: FindingKey, content: FindingContent, *, at: datetime) -> NewFinding:
        """First seen at ``at``: fixable since then when a fix is known."""
        return tuple.__new__(cls, (*key, *content.columns(), at if content.fixable else None))


class FindingUpdate(
    NamedTuple(
        "FindingUpdate",
        fields_of(
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
        return tuple.__new__(
            cls, (*content.columns(), fixable_since, first_seen, last_seen, last_scan_id, id)
        )


SIGHTING_KEPT = tuple(column for column in FindingUpdate._fields if column != "last_scan_id")
"""The columns of an update that leaves the stored last sighting (``last_scan_id``) as it is."""
sighting_kept = columns_getter(FindingUpdate, SIGHTING_KEPT)
"""An update's SIGHTING_KEPT values."""
