"""When documents are issued again: after a decision (its finding's digests, once
committed), when an acceptance expires, on request of one image's document, and by beat:
every VEX_REISSUE_INTERVAL the digests scans marked (``vex_reissue_pending``: a scan only
marks its digest, so the ingest path never builds documents), and once a day every
repository with decisions or documents (``vex_reissue_all``, the safety net).

A repository's document is the union of its digests' newest documents, so a decision
recomputes only the digests its finding was scanned in. ``fixed`` statements go into the
repository's document for the digests its tags point at now: the digests someone still
scans; every digest's own document keeps its own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from findings.models import Finding, Image, Repository, Scan, Tag
from remediator.engine.models import VexDocument, VexReissuePending

from .documents import Subject, vex_issue
from .facts import decided, digest_facts, images_of_findings
from .statements import FIXED, statements_for

log = logging.getLogger(__name__)


def _digest_statements(repository: Repository) -> list[dict]:
    """Every statement of the newest document of each of the repository's digests, but
    ``fixed`` ones only for the digests a tag points at now (else every rebuild would
    grow the repository's document for ever)."""
    newest = VexDocument.objects.filter(subject=OuterRef("subject")).order_by("-version")
    rows = (
        VexDocument.objects.filter(repository=repository, image__isnull=False)
        .filter(version=Subquery(newest.values("version")[:1]))
        .values_list("image_id", "document")
    )
    current = set(Tag.objects.filter(repository=repository).values_list("image_id", flat=True))
    return [
        statement
        for image_id, document in rows
        for statement in document.get("statements", [])
        if image_id in current or statement.get("status") != FIXED
    ]


def vex_reissue(repository: Repository, images: list[Image] | None = None) -> VexDocument | None:
    """Issue the documents of ``images`` (every digest when None) and then the
    repository's; returns the repository's newest document."""
    for image, facts in digest_facts(repository, images):
        vex_issue(Subject(repository, image), statements_for(facts))
    merged = sorted(
        _digest_statements(repository),
        key=lambda s: (s["products"][0]["@id"], s["vulnerability"]["name"], s["status"]),
    )
    document, _ = vex_issue(Subject(repository), merged)
    return document


def vex_reissue_findings(finding_ids: Iterable[int]) -> int:
    """Issue again the documents these findings' decisions may have changed; how many
    repositories were looked at."""
    wanted = images_of_findings(finding_ids)
    for repository in Repository.objects.filter(pk__in=list(wanted)):
        images = list(Image.objects.filter(pk__in=wanted[repository.pk]).exclude(digest=""))
        vex_reissue(repository, images)
    return len(wanted)


_BATCH: ContextVar[list[int] | None] = ContextVar("vex_reissue_batch", default=None)


@contextmanager
def vex_reissue_batched() -> Iterator[None]:
    """Decisions made inside (a bulk decision) issue their documents once, at the end."""
    ids: list[int] = []
    token = _BATCH.set(ids)
    try:
        yield
    finally:
        _BATCH.reset(token)
        if ids:
            vex_reissue_after_commit(ids)


def vex_reissue_after_commit(finding_ids: Iterable[int]) -> None:
    """Issue again once the decision is committed. A failure here never undoes or
    refuses the decision: it is logged, and the next beat run (or request) issues."""
    ids = list(finding_ids)
    batch = _BATCH.get()
    if batch is not None:
        batch.extend(ids)
        return

    def run() -> None:
        try:
            vex_reissue_findings(ids)
        except Exception:  # a side effect; beat repairs it
            log.exception("VEX documents of findings %r not issued; beat will retry", ids[:20])
            try:
                for images in images_of_findings(ids).values():
                    _mark(images)
            except Exception:
                log.exception("VEX: findings %r not marked for beat either", ids[:20])

    transaction.on_commit(run)


def vex_reissue_all() -> int:
    """Issue again every repository with decisions or documents; how many."""
    now = timezone.now()
    with_decisions = Finding.objects.filter(decided(now)).values_list("repository_id", flat=True)
    with_documents = VexDocument.objects.values_list("repository_id", flat=True)
    ids = set(with_decisions.distinct()) | set(with_documents.distinct())
    for repository in Repository.objects.filter(pk__in=sorted(ids)):
        vex_reissue(repository)
    return len(ids)


def _mark(image_ids: Iterable[int]) -> None:
    now = timezone.now()
    VexReissuePending.objects.bulk_create(
        [VexReissuePending(image_id=i, marked_at=now) for i in image_ids],
        # a mark made again moves on: the run that is issuing it keeps it for the next one
        update_conflicts=True,
        unique_fields=["image"],
        update_fields=["marked_at"],
    )


def vex_reissue_after_scan(scan: Scan) -> None:
    """A scan arrived: its digest may now list decided findings, and the findings it
    proved fixed leave the documents of the digests they were decided in. Marks those
    digests for beat (``vex_reissue_pending``); nothing for a repository without
    decisions, documents or fixes by this scan. Never raises: the daily sweep issues
    what this could not mark."""
    try:
        fixed = list(Finding.objects.filter(fixed_by_scan=scan).values_list("pk", flat=True))
        repository_id = scan.image.repository_id
        if not fixed and not (
            VexDocument.objects.filter(repository_id=repository_id).exists()
            or Finding.objects.filter(decided(timezone.now()), repository_id=repository_id).exists()
        ):
            return
        images = set(images_of_findings(fixed).get(repository_id, set())) | {scan.image_id}
        _mark(images)
    except Exception:  # a side effect of the scan; the daily sweep repairs it
        log.exception("VEX documents after scan %s not marked; the daily sweep will", scan.pk)


def vex_reissue_pending(*, limit: int = 500) -> int:
    """Issue the documents of the digests scans marked, oldest marks first, at most
    ``limit`` repositories; how many repositories. A mark made while its repository is
    being issued stays for the next run."""
    marked = VexReissuePending.objects.order_by("marked_at")
    repositories = list(dict.fromkeys(marked.values_list("image__repository_id", flat=True)))
    for repository_id in repositories[:limit]:
        marks = dict(
            VexReissuePending.objects.filter(image__repository_id=repository_id).values_list(
                "image_id", "marked_at"
            )
        )
        repository = Repository.objects.get(pk=repository_id)
        vex_reissue(repository, list(Image.objects.filter(pk__in=marks).exclude(digest="")))
        # a digest marked again meanwhile has a later mark: it stays for the next run
        VexReissuePending.objects.filter(
            image_id__in=list(marks), marked_at__lte=max(marks.values())
        ).delete()
    return len(repositories[:limit])
