"""When documents are issued again: after a decision (its finding's digests), when an
acceptance expires, when a scan fixes findings, on request, and by beat for every
repository with decisions or documents (``VEX_REISSUE_INTERVAL``).

A repository's document is the union of its digests' newest documents, so a decision
recomputes only the digests its finding was scanned in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from findings.models import Finding, Image, Repository, Scan
from remediator.engine.models import VexDocument

from .documents import Subject, vex_issue
from .facts import decided, digest_facts, images_of_findings
from .statements import statements_for

log = logging.getLogger(__name__)


def _digest_statements(repository: Repository) -> list[dict]:
    """Every statement of the newest document of each of the repository's digests."""
    newest = VexDocument.objects.filter(subject=OuterRef("subject")).order_by("-version")
    rows = (
        VexDocument.objects.filter(repository=repository, image__isnull=False)
        .filter(version=Subquery(newest.values("version")[:1]))
        .values_list("document", flat=True)
    )
    return [statement for document in rows for statement in document.get("statements", [])]


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


def vex_reissue_after_scan(scan: Scan) -> None:
    """A scan arrived: its digest may now list decided findings, and the findings it
    proved fixed leave the documents of the digests they were decided in. Nothing to do
    for a repository without decisions, documents or fixes by this scan. Never raises:
    beat issues what this could not."""
    try:
        fixed = list(Finding.objects.filter(fixed_by_scan=scan).values_list("pk", flat=True))
        repository = scan.image.repository
        if not fixed and not (
            VexDocument.objects.filter(repository=repository).exists()
            or Finding.objects.filter(decided(timezone.now()), repository=repository).exists()
        ):
            return
        images = set(images_of_findings(fixed).get(repository.pk, set())) | {scan.image_id}
        vex_reissue(repository, list(Image.objects.filter(pk__in=images).exclude(digest="")))
    except Exception:  # a side effect of the scan; beat repairs it
        log.exception("VEX documents after scan %s not issued; beat will retry", scan.pk)
