"""Named reads of scans: the list, and an image's latest ones."""

from __future__ import annotations

from django.db.models import QuerySet

from findings.models import Repository, Scan


def scans_listed() -> QuerySet[Scan]:
    """Scans with the image and tag a list shows (no query per row)."""
    return Scan.objects.select_related("image", "tag__repository")


def image_scans(repository: Repository, *, limit: int = 30) -> QuerySet[Scan]:
    """The repository's newest ``limit`` scans, with their tag and image."""
    return (
        Scan.objects.filter(tag__repository=repository)
        .select_related("tag", "image")
        .order_by("-scanned_at", "-id")[:limit]
    )
