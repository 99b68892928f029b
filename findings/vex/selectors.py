"""Named reads of VEX statements, and which of them speak of which findings.

Batched: the statements of any number of findings are read in one query (by their
vulnerability ids, aliases included), the digests of their tag streams in one more,
then matched in Python (``matching.py``). Only statements of documents not superseded
by a newer version count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from findings.bulk import in_ids
from findings.models import Finding, Scan

from .matching import FindingTarget, statement_matches
from .models import VexAlias, VexImport, VexStatement
from .trust import author_trusted, trusted_patterns

FINDING_COLUMNS = (
    "id",
    "tag_id",
    "vulnerability_id",
    "package",
    "installed_version",
    "package_type",
    "repository__registry",
    "repository__name",
)


@dataclass(frozen=True)
class StatementView:
    """A statement with its document, as shown beside a finding."""

    id: int
    vulnerability_id: str
    status: str
    justification: str
    original_justification: str
    impact: str
    action: str
    products: list
    import_id: int
    delivery_id: int
    format: str
    document_id: str
    author: str
    issued_at: datetime | None
    version: str
    link: str
    trusted: bool

    @property
    def status_label(self) -> str:
        return self.status.replace("_", " ")

    @property
    def justification_label(self) -> str:
        return (self.justification or self.original_justification).replace("_", " ")

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "vulnerability_id": self.vulnerability_id,
            "status": self.status,
            "justification": self.justification,
            "original_justification": self.original_justification,
            "impact": self.impact,
            "action": self.action,
            "products": self.products,
            "trusted": self.trusted,
            "document": {
                "import": self.import_id,
                "delivery": self.delivery_id,
                "format": self.format,
                "id": self.document_id,
                "author": self.author,
                "issued_at": self.issued_at.isoformat() if self.issued_at else None,
                "version": self.version,
                "link": self.link,
            },
        }


def delivery_vex_import(delivery_id: int) -> VexImport | None:
    """The VEX document a delivery brought, when it was imported."""
    return VexImport.objects.select_related("superseded_by").filter(delivery_id=delivery_id).first()


def statements_for(
    vulnerability_ids: Iterable[str],
) -> dict[str, list[tuple[StatementView, list[str]]]]:
    """{upper-case id: [(statement, its ids)]} of the current statements naming any of
    ``vulnerability_ids`` (as their id or an alias): one query."""
    wanted = sorted({v for v in vulnerability_ids if v})
    if not wanted:
        return {}
    aliased = VexAlias.objects.filter(vulnerability_id__in=in_ids(wanted, text=True))
    rows = (
        VexStatement.objects.filter(vex_import__superseded_by__isnull=True)
        .filter(
            Q(vulnerability_id__in=in_ids(wanted, text=True))
            | Q(pk__in=aliased.values("statement_id"))
        )
        .select_related("vex_import")
        .order_by("-vex_import__issued_at", "-id")
    )
    patterns = trusted_patterns()
    found: dict[str, list[tuple[StatementView, list[str]]]] = defaultdict(list)
    for row in rows:
        document = row.vex_import
        view = StatementView(
            id=row.pk,
            vulnerability_id=row.vulnerability_id,
            status=row.status,
            justification=row.justification,
            original_justification=row.original_justification,
            impact=row.impact,
            action=row.action,
            products=row.products,
            import_id=document.pk,
            delivery_id=document.delivery_id,
            format=document.format,
            document_id=document.document_id,
            author=document.author,
            issued_at=row.issued_at or document.issued_at,
            version=document.version,
            link=document.link,
            trusted=author_trusted(document.author, patterns),
        )
        ids = [row.vulnerability_id, *(str(a) for a in row.aliases or ())]
        for name in {i.upper() for i in ids}:
            found[name].append((view, ids))
    return found


def tag_digests(tag_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    """{tag id: the digests its scans had}: one query."""
    ids = sorted(set(tag_ids))  # a tag's scans: its digests, past and present
    if not ids:
        return {}
    rows = (
        Scan.objects.filter(tag_id__in=in_ids(ids))
        .exclude(image__digest="")
        .values_list("tag_id", "image__digest")
        .distinct()
    )
    found: dict[int, set[str]] = defaultdict(set)
    for tag_id, digest in rows:
        found[tag_id].add(digest)
    return {tag: frozenset(digests) for tag, digests in found.items()}


def finding_statements(findings: QuerySet) -> dict[int, list[StatementView]]:
    """{finding id: the current statements that speak of it}, for the findings of the
    queryset: one query when no statement counts, else four whatever their number (the
    findings' vulnerability ids, the statements naming them, the findings of those ids,
    the digests of their tags), then matching in Python."""
    if not VexStatement.objects.filter(vex_import__superseded_by__isnull=True).exists():
        return {}
    findings = findings.order_by()
    named = set(findings.values_list("vulnerability_id", flat=True).distinct())
    statements = statements_for(named)
    if not statements:
        return {}
    spoken = sorted(v for v in named if v.upper() in statements)
    rows = list(
        findings.filter(vulnerability_id__in=in_ids(spoken, text=True)).values_list(
            *FINDING_COLUMNS
        )
    )
    digests = tag_digests(row[1] for row in rows)
    found: dict[int, list[StatementView]] = {}
    for pk, tag_id, vulnerability, package, version, kind, registry, name in rows:
        target = FindingTarget(
            vulnerability_id=vulnerability,
            repository=f"{registry}/{name}",
            digests=digests.get(tag_id, frozenset()),
            package=package,
            installed_version=version,
            package_type=kind,
        )
        candidates = statements[vulnerability.upper()]
        matched = [
            view for view, ids in candidates if statement_matches(ids, view.products, target)
        ]
        if matched:
            found[pk] = matched
    return found


def trusted_not_affected_ids(findings: QuerySet) -> set[int]:
    """The findings of the queryset a trusted vendor's current statement marks not
    affected, and no trusted current statement marks otherwise. No query at all while
    nobody is trusted (VEX_TRUSTED_AUTHORS empty, the default)."""
    if not trusted_patterns():
        return set()
    found = set()
    for pk, views in finding_statements(findings).items():
        trusted = [v for v in views if v.trusted]
        if trusted and all(v.status == "not_affected" for v in trusted):
            found.add(pk)
    return found


def import_matched_findings(vex_import: VexImport) -> set[int]:
    """The findings some statement of ``vex_import`` speaks of (while it counts)."""
    rows = VexStatement.objects.filter(vex_import=vex_import)
    ids = {v for v in rows.values_list("vulnerability_id", flat=True)}
    ids |= set(
        VexAlias.objects.filter(statement__vex_import=vex_import).values_list(
            "vulnerability_id", flat=True
        )
    )
    if not ids:
        return set()
    findings = Finding.objects.filter(vulnerability_id__in=in_ids(sorted(ids), text=True))
    return {
        pk
        for pk, views in finding_statements(findings).items()
        if any(view.import_id == vex_import.pk for view in views)
    }


@dataclass(frozen=True)
class ImageStatements:
    """The current statements that speak of a repository's open findings."""

    rows: list[tuple[dict, StatementView]]
    """(the finding's id, vulnerability, package, version and tag; a statement), at most
    ``limit`` of them."""
    findings: int
    """Open findings some statement speaks of."""
    by_status: dict[str, int]
    """Of those findings, how many each status (of any statement) speaks of."""
    trusted_not_affected: int
    truncated: bool


def image_statements(repository_id: int, *, limit: int = 100) -> ImageStatements:
    """What vendors say of the open findings of one repository (its image page)."""
    matched = finding_statements(Finding.objects.open().filter(repository_id=repository_id))
    by_status: dict[str, int] = defaultdict(int)
    trusted_na = 0
    for views in matched.values():
        for status in {v.status for v in views}:
            by_status[status] += 1
        trusted = [v for v in views if v.trusted]
        trusted_na += bool(trusted) and all(v.status == "not_affected" for v in trusted)
    shown = sorted(matched)[:limit]
    details = {
        row["id"]: row
        for row in Finding.objects.filter(pk__in=shown).values(
            "id", "vulnerability_id", "package", "installed_version", "tag__name"
        )
    }
    rows = [(details[pk], view) for pk in shown if pk in details for view in matched[pk]]
    return ImageStatements(
        rows=rows,
        findings=len(matched),
        by_status=dict(sorted(by_status.items())),
        trusted_not_affected=trusted_na,
        truncated=len(matched) > limit,
    )
