"""The search box's reads over the findings store: vulnerabilities, packages, images
(registry/repository:tag) and digests matching part of what was typed, ignoring case.

Every read is bounded, so a search costs the same at a million findings as at a
thousand: exact identifiers (a vulnerability id, a digest) go through their indexes
and rank first; substrings are ``UPPER(column) LIKE UPPER('%text%')`` (Django's
``icontains``), which PostgreSQL answers from the pg_trgm GIN indexes of migration
0017 when the text is three characters or more, and every kind stops at ``limit`` rows.
Packages are found among at most ``PACKAGE_SCAN`` matching findings, never by
grouping the whole table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from findings.models import Finding, Image, Repository, Tag, Vulnerability
from findings.querysets import ACTIVE_STATUSES
from findings.selectors.scope import visible

MAX_QUERY = 200
"""Longest text searched (characters); longer text is refused by the form."""
PER_KIND = 10
"""Hits shown per kind."""
PACKAGE_SCAN = 5000
"""Matching findings read at most to find distinct package names."""
MIN_SUBSTRING = 2
"""Shorter text matches identifiers exactly only (a substring of one letter is noise)."""

_DIGEST = re.compile(r"(?:sha256:|sha512:)?[0-9a-f]{6,128}")
_VULN_ID = re.compile(r"(?:CVE|GHSA|RHSA|DSA|USN|ALAS|GO|PYSEC|OSV)-\S+", re.IGNORECASE)


@dataclass
class Hit:
    """One result: what it is, a line describing it, where it links, and whether it
    matched exactly (exact hits rank first)."""

    kind: str
    label: str
    detail: str
    url_name: str
    url_args: tuple = ()
    query: dict = field(default_factory=dict)
    exact: bool = False


def looks_like_digest(text: str) -> bool:
    return bool(_DIGEST.fullmatch(text.strip().lower()))


def looks_like_vulnerability(text: str) -> bool:
    return bool(_VULN_ID.fullmatch(text.strip()))


def _substring_ok(text: str) -> bool:
    return len(text) >= MIN_SUBSTRING


def vulnerabilities_matching(text: str, *, limit: int = PER_KIND, user: Any = None) -> list[Hit]:
    """Vulnerabilities whose id or title contains ``text``; an exact id first. Each
    with its number of open findings (one grouped query over the index on
    (vulnerability, status))."""
    text = text.strip()
    exact = list(Vulnerability.objects.filter(id__iexact=text).only("id", "title")[:1])
    rows = list(exact)
    if _substring_ok(text):
        more = (
            Vulnerability.objects.filter(Q(id__icontains=text) | Q(title__icontains=text))
            .exclude(pk__in=[v.pk for v in exact])
            .only("id", "title")
            .order_by("-id")[: limit - len(rows)]
        )
        rows += list(more)
    counts = dict(
        visible(Finding.objects.all(), user)
        .filter(vulnerability_id__in=[v.pk for v in rows], status__in=ACTIVE_STATUSES)
        .values_list("vulnerability_id")
        .annotate(n=Count("id"))
        .values_list("vulnerability_id", "n")
    )
    return [
        Hit(
            kind="vulnerability",
            label=v.pk,
            detail=f"{counts.get(v.pk, 0)} open · {v.title}"
            if v.title
            else f"{counts.get(v.pk, 0)} open",
            url_name="finding-list",
            query={"cve": v.pk, "status": ""},
            exact=v in exact,
        )
        for v in rows
    ]


def packages_matching(text: str, *, limit: int = PER_KIND, user: Any = None) -> list[Hit]:
    """Package names containing ``text`` among at most PACKAGE_SCAN matching findings;
    the name equal to ``text`` first."""
    text = text.strip()
    if not _substring_ok(text):
        return []
    sample = (
        visible(Finding.objects.filter(package__icontains=text), user).order_by().values("package")
    )
    names = sorted(
        {row["package"] for row in sample[:PACKAGE_SCAN]},
        key=lambda name: (name.upper() != text.upper(), len(name), name.upper()),
    )
    return [
        Hit(
            kind="package",
            label=name,
            detail="package",
            url_name="finding-list",
            query={"package": name},
            exact=name.upper() == text.upper(),
        )
        for name in names[:limit]
    ]


def _image_parts(text: str) -> tuple[str, str]:
    """``registry/repository:tag`` split into the repository part and the tag ('' when
    none: a ``:`` in a registry's port is not a tag)."""
    head, sep, tail = text.rpartition(":")
    if sep and "/" not in tail and tail:
        return head, tail
    return text, ""


def repositories_matching_q(text: str) -> Q:
    """The repositories whose ``registry/name`` contains the text's repository part, as
    people type it (``nginx``, ``library/ngi``, ``docker.io/library/nginx``); a ``:tag``
    after it narrows to repositories with a tag containing it."""
    name, tag = _image_parts(text.strip().lower())
    registry, slash, rest = name.partition("/")
    q = Q(name__icontains=name)
    if slash and ("." in registry or ":" in registry or registry == "localhost"):
        q |= Q(registry=registry, name__icontains=rest)
    if tag:
        q &= Q(pk__in=Tag.objects.filter(name__icontains=tag).values("repository_id"))
    return q


def images_matching(text: str, *, limit: int = PER_KIND, user: Any = None) -> list[Hit]:
    """Repositories ``repositories_matching_q`` finds; whole names first."""
    text = text.strip().lower()
    if not _substring_ok(text) or looks_like_digest(text):
        return []
    name, tag = _image_parts(text)
    repositories = visible(Repository.objects.filter(repositories_matching_q(text)), user)
    rows = list(repositories.order_by("name", "id")[: limit * 3])
    rows.sort(key=lambda r: (name not in (r.name, str(r)), len(r.name), r.name))
    return [
        Hit(
            kind="image",
            label=f"{r}:{tag}" if tag else str(r),
            detail="image",
            url_name="image-detail",
            url_args=(r.pk,),
            exact=name in (r.name, str(r)),
        )
        for r in rows[:limit]
    ]


def digests_matching(text: str, *, limit: int = PER_KIND, user: Any = None) -> list[Hit]:
    """Images whose digest is ``text`` or starts with it (``sha256:`` may be left out)."""
    text = text.strip().lower()
    if not looks_like_digest(text):
        return []
    exact = text if ":" in text else f"sha256:{text}"
    images: QuerySet[Image] = visible(Image.objects.select_related("repository"), user)
    rows = list(images.filter(digest=exact)[:limit])
    if len(rows) < limit:
        prefix = Q(digest__startswith=text) | Q(digest__startswith=f"sha256:{text}")
        rows += list(
            images.filter(prefix).exclude(digest=exact).order_by("-id")[: limit - len(rows)]
        )
    return [
        Hit(
            kind="image",
            label=f"{image.repository}@{image.digest}",
            detail="digest",
            url_name="image-detail",
            url_args=(image.repository_id,),
            exact=image.digest == exact,
        )
        for image in rows
    ]


def search_findings_store(
    text: str, *, limit: int = PER_KIND, user: Any = None
) -> dict[str, list[Hit]]:
    """The store's hits by kind: ``vulnerabilities`` (with packages after them) and
    ``images`` (digests first), of what ``user`` may see (team-scoped access)."""
    return {
        "vulnerabilities": vulnerabilities_matching(text, limit=limit, user=user)
        + packages_matching(text, limit=limit, user=user),
        "images": digests_matching(text, limit=limit, user=user)
        + images_matching(text, limit=limit, user=user),
    }


def findings_matching_q(text: str) -> Q:
    """The findings ``q`` finds (the findings FilterSet's ``q``): of a vulnerability
    whose id contains the text, in a package containing it, in an image whose name
    contains it, or in a tag now pointing at a digest starting with it."""
    text = text.strip()
    vulnerabilities = Vulnerability.objects.filter(id__icontains=text).values("id")[:PACKAGE_SCAN]
    q = Q(vulnerability_id__in=vulnerabilities) | Q(package__icontains=text)
    name, tag = _image_parts(text.lower())
    repositories = Repository.objects.filter(name__icontains=name).values("id")[:PACKAGE_SCAN]
    q |= (
        Q(repository_id__in=repositories, tag__name__icontains=tag)
        if tag
        else Q(repository_id__in=repositories)
    )
    if looks_like_digest(text):
        digest = text.lower()
        tags = Tag.objects.filter(
            Q(image__digest__startswith=digest) | Q(image__digest__startswith=f"sha256:{digest}")
        ).values("id")
        q |= Q(tag_id__in=tags)
    return q
