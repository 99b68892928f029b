"""What the API serves: each read issues first (a stale document gets its new version
before it is served), then answers from the store."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from findings.models import Finding, Image, Repository
from remediator.engine.models import VexDocument

from . import repository as vex_repository
from .documents import Subject, newest, servable
from .facts import decided, digest_facts
from .ignore_files import grype_ignore_yaml, trivyignore_yaml
from .reissue import vex_reissue
from .statements import FindingFacts


class UnknownDigest(LookupError):
    """The digest is not one of the repository's images."""


def _image(repository: Repository, digest: str) -> Image:
    image = repository.images.filter(digest=digest).exclude(digest="").first()
    if image is None:
        raise UnknownDigest(digest)
    return image


def image_vex(repository: Repository, digest: str = "") -> dict | None:
    """The OpenVEX document of an image repository (every digest) or of one digest,
    issued now if its statements changed; None when it has no statement."""
    vex_reissue(repository)
    if digest:
        return servable(newest(Subject(repository, _image(repository, digest)).purl))
    return servable(newest(Subject(repository).purl))


def _facts(repository: Repository, digest: str) -> list[FindingFacts]:
    images = [_image(repository, digest)] if digest else None
    return [item for _, facts in digest_facts(repository, images) for item in facts]


def image_ignore_file(repository: Repository, *, kind: str, digest: str = "") -> str:
    """``.trivyignore.yaml`` (kind ``trivy``) or ``.grype.yaml`` (``grype``) text."""
    source = str(repository) + (f"@{digest}" if digest else "")
    write = trivyignore_yaml if kind == "trivy" else grype_ignore_yaml
    return write(_facts(repository, digest), source=source, generated=timezone.now())


def repository_entries(
    repositories: QuerySet[Repository],
) -> tuple[list[vex_repository.Entry], datetime]:
    """The VEX repository's documents for these repositories, and when the newest of
    them (a retraction included) was issued. Served as stored: decisions and expiries
    issue at once, scans within VEX_REISSUE_INTERVAL (every scanner fetching the archive
    does not recompute the whole fleet); a repository with decisions and no document yet
    is issued now."""
    documented = VexDocument.objects.filter(repository__in=repositories)
    with_decisions = Finding.objects.filter(decided(timezone.now()), repository__in=repositories)
    ids = set(documented.values_list("repository_id", flat=True).distinct())
    ids |= set(with_decisions.values_list("repository_id", flat=True).distinct())
    entries: list[vex_repository.Entry] = []
    updated_at = vex_repository.EPOCH
    for repository in repositories.filter(pk__in=sorted(ids)):
        document = newest(Subject(repository).purl) or vex_reissue(repository)
        if document is None:
            continue
        updated_at = max(updated_at, document.issued_at)
        served = servable(document)
        if served is not None:
            entries.append(
                vex_repository.entry(
                    repository.registry, repository.name, served, document.issued_at
                )
            )
    return entries, updated_at
