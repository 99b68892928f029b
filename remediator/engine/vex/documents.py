"""OpenVEX documents and their versions: one per image repository (every digest's
statements: what the VEX repository serves) and one per digest.

Issuing computes the statements; when their hash differs from the newest stored
version's, version + 1 is stored, ``last_updated`` now, the document ``timestamp``
staying the first version's. An unchanged set stores nothing. Two issuers racing for
the same version: the unique (subject, version) lets one win, the other reads it.

A document whose statements all went away is stored as a version with an empty list
(the history shows the retraction) but is not served as OpenVEX: the schema requires at
least one statement. The VEX repository leaves it out of its index and the download
answers 404; Trivy, which re-reads the whole repository, then filters nothing for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from findings.models import Image, Repository
from remediator.engine.models import VexDocument

from .purls import oci_purl
from .statements import statements_hash

CONTEXT = "https://openvex.dev/ns/v0.2.0"
ISSUE_ATTEMPTS = 3


@dataclass(frozen=True)
class Subject:
    """What a document is about: a repository, or one of its digests."""

    repository: Repository
    image: Image | None = None

    @property
    def purl(self) -> str:
        digest = self.image.digest if self.image is not None else ""
        return oci_purl(self.repository.registry, self.repository.name, digest)

    @property
    def url(self) -> str:
        """The document's stable @id: where it is served."""
        path = reverse("api-image-vex", args=[self.repository.pk])
        query = f"?digest={self.image.digest}" if self.image is not None else ""
        return f"{settings.BASE_URL}{path}{query}"


def _iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def document_build(
    subject: Subject, statements: list[dict], *, version: int, first: VexDocument | None, now
) -> dict:
    """The OpenVEX document of one version."""
    document = {
        "@context": CONTEXT,
        "@id": subject.url,
        "author": settings.VEX_AUTHOR,
        "role": "Document Creator",
        "timestamp": _iso(first.issued_at if first is not None else now),
        "last_updated": _iso(now),
        "version": version,
        "tooling": "Remediator",
        "statements": statements,
    }
    return document


def newest(subject_purl: str) -> VexDocument | None:
    return VexDocument.objects.filter(subject=subject_purl).order_by("-version").first()


def vex_issue(subject: Subject, statements: list[dict]) -> tuple[VexDocument | None, bool]:
    """The newest version of ``subject``'s document after issuing ``statements``:
    (document, whether a new version was stored). None when nothing was ever said."""
    digest = statements_hash(statements)
    purl = subject.purl
    for _ in range(ISSUE_ATTEMPTS):
        latest = newest(purl)
        if latest is not None and latest.statements_hash == digest:
            return latest, False
        if latest is None and not statements:
            return None, False
        version = latest.version + 1 if latest is not None else 1
        first = VexDocument.objects.filter(subject=purl, version=1).first() if latest else None
        now = timezone.now()
        document = document_build(subject, statements, version=version, first=first, now=now)
        try:
            with transaction.atomic():
                made = VexDocument.objects.create(
                    subject=purl,
                    repository=subject.repository,
                    image=subject.image,
                    version=version,
                    issued_at=now,
                    statements_hash=digest,
                    statements_count=len(statements),
                    document=document,
                )
        except IntegrityError:
            continue  # another issuer stored this version first: compare with it
        return made, True
    return newest(purl), False


def servable(document: VexDocument | None) -> dict | None:
    """The OpenVEX JSON to serve, or None (no document, or no statements left)."""
    if document is None or not document.statements_count:
        return None
    return document.document
