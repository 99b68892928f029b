"""What the database knows about many image references at once, in a fixed number of
queries however many there are (a review with thousands of containers must not cost a
query set per image).

A :class:`Target` is what one reference is judged by: a digest (the reference's own, or
the one its registry serves for its tag now) or, when the registry was not asked, the
digest its tag had at its last scan. A digest is judged by what is known of it wherever
it was scanned: the newest successful scan of it by each scanner, under any repository
name (a mirror, a copy, a rename), and the findings those scans list. Seven queries
answer every target: repositories, tags, images, newest scans (a window function),
finding sets, findings, open actions; each matches its keys with one bound parameter
(``findings.bulk.in_ids``), so none meets SQLite's variable limit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from django.conf import settings
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.urls import reverse

from findings.bulk import in_ids
from findings.models import Finding, Image, Repository, Scan, Tag
from findings.parsers.base import ImageRef
from findings.selectors.seen import scan_finding_id_sets
from remediator.engine.models import OPEN_STATES, ActionKind, RemediationAction
from remediator.engine.rules.admission import (
    DECIDE_FIELDS,
    ActionFact,
    AdmissionRule,
    ImageFacts,
)
from remediator.engine.rules.criteria import FindingFacts
from remediator.engine.services.finding_facts import facts_iter

DEFAULT_TAG = "latest"
NEVER_SCANNED = "never scanned by any scanner Remediator hears from"
Known = tuple[ImageFacts | None, str]
"""(facts, '') for a scanned digest; (None, why) for an unknown image."""
Identity = tuple[str, str | int]
"""("digest", "sha256:…") or ("image", id) for an image its scanner gave no digest."""


@dataclass(frozen=True)
class Target:
    ref: ImageRef
    """The reference, normalised (its own digest, if any, is in ``digest``)."""
    digest: str = ""
    """The digest to judge; '' to judge the tag by its last scanned digest."""
    resolved: bool = False
    """``digest`` is what the registry serves for the tag now."""

    @property
    def tag(self) -> str:
        return self.ref.tag or DEFAULT_TAG

    @property
    def key(self) -> str:
        """What its facts are remembered by: the reference's name and tag, and the digest."""
        key = f"{self.ref.name}:{self.tag}"
        if self.digest:
            key += ("@@" if self.resolved else "@") + self.digest
        return key


@dataclass
class _Tables:
    repositories: dict[str, int]
    tags: dict[tuple[int, str], tuple[int, int, str]]
    """(repository id, name) -> (tag id, image id, image digest)."""
    images: dict[Identity, list[tuple[int, str]]]
    """identity -> [(image id, repository name)]."""


def _tables(targets: list[Target]) -> _Tables:
    names = {t.ref.name for t in targets}
    rows = Repository.objects.filter(
        name__in=in_ids(sorted({t.ref.repository for t in targets}), text=True)
    ).values_list("id", "registry", "name")
    repositories = {f"{r}/{n}": pk for pk, r, n in rows if f"{r}/{n}" in names}
    tags = {}
    if repositories:
        rows = Tag.objects.filter(
            repository_id__in=in_ids(sorted(set(repositories.values()))),
            name__in=in_ids(sorted({t.tag for t in targets}), text=True),
        ).values_list("id", "repository_id", "name", "image_id", "image__digest")
        tags = {(repo, name): (pk, image, digest) for pk, repo, name, image, digest in rows}
    digests = {t.digest for t in targets if t.digest}
    digests |= {digest for _, _, digest in tags.values() if digest}
    undigested = [image for _, image, digest in tags.values() if not digest]
    images: dict[Identity, list[tuple[int, str]]] = defaultdict(list)
    if digests or undigested:
        rows = Image.objects.filter(
            Q(digest__in=in_ids(sorted(digests), text=True)) | Q(pk__in=in_ids(undigested))
        ).values_list("id", "digest", "repository__registry", "repository__name")
        for pk, digest, registry, name in rows:
            identity: Identity = ("digest", digest) if digest else ("image", pk)
            images[identity].append((pk, f"{registry}/{name}"))
    return _Tables(repositories, tags, images)


def _newest_scans(image_ids: list[int]) -> dict[tuple[int, str], tuple[int, object]]:
    """{(image id, scanner): (scan id, scanned_at)} of each scanner's newest successful
    scan of each image: one query, a window function over the image's scans."""
    if not image_ids:
        return {}
    rank = Window(
        RowNumber(),
        partition_by=[F("image_id"), F("scanner_key")],
        order_by=[F("scanned_at").desc(), F("id").desc()],
    )
    rows = (
        Scan.objects.filter(image_id__in=in_ids(image_ids), failure="")
        .annotate(rank=rank)
        .filter(rank=1)
        .values_list("id", "image_id", "scanner_key", "scanned_at")
    )
    return {(image, scanner): (pk, at) for pk, image, scanner, at in rows}


def _chosen_scans(tables: _Tables) -> dict[Identity, list[tuple[int, str]]]:
    """identity -> [(scan id, repository it was scanned under)]: per scanner, its newest
    successful scan of that digest under any repository."""
    newest = _newest_scans(sorted({pk for images in tables.images.values() for pk, _ in images}))
    by_image: dict[int, list[tuple[str, int, object]]] = defaultdict(list)
    for (image, scanner), (pk, at) in newest.items():
        by_image[image].append((scanner, pk, at))
    chosen: dict[Identity, list[tuple[int, str]]] = {}
    for identity, images in tables.images.items():
        best: dict[str, tuple[object, int, str]] = {}
        for image, repository in images:
            for scanner, pk, at in by_image.get(image, ()):
                if scanner not in best or (at, pk) > best[scanner][:2]:
                    best[scanner] = (at, pk, repository)
        chosen[identity] = [(pk, repository) for _, pk, repository in best.values()]
    return chosen


def _findings(ids: set[int], rules: list[AdmissionRule]) -> dict[int, FindingFacts]:
    """{finding id: its facts} in one query, by the loader every policy's facts come from:
    what ``decide`` and ``rules`` read, and the tag (for its open actions)."""
    found = Finding.objects.filter(pk__in=in_ids(sorted(ids)))
    fields = {"id", "tag_id", *DECIDE_FIELDS}
    # Where an image runs is, for admission, the namespace under review: the inventory's
    # namespaces of each repository (a query each) are not read.
    read = [replace(rule, running=False, namespace_glob="") for rule in rules]
    return {f.id: f for f in facts_iter(found, fields=fields, rules=read)}


def _actions(tag_ids: set[int]) -> dict[int, list[tuple[int, str, str]]]:
    """{tag id: [(action id, kind, state)] newest first} of the open actions, one query."""
    if not tag_ids:
        return {}
    rows = (
        RemediationAction.objects.filter(tag_id__in=in_ids(sorted(tag_ids)), state__in=OPEN_STATES)
        .order_by("-id")
        .values_list("id", "kind", "state", "tag_id")
    )
    found: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for pk, kind, state, tag_id in rows:
        found[tag_id].append((pk, kind, state))
    return found


def _action(tag_ids: set[int], actions: dict[int, list[tuple[int, str, str]]]) -> ActionFact | None:
    """The newest open rebuild of those tags, else their newest open action."""
    candidates = sorted((a for t in tag_ids for a in actions.get(t, ())), reverse=True)
    if not candidates:
        return None
    pk, kind, state = next((a for a in candidates if a[1] == ActionKind.REBUILD), candidates[0])
    url = settings.BASE_URL + reverse("action-detail", args=[pk])
    return ActionFact(id=pk, kind=kind, state=state, url=url)


def _unknown_digest(target: Target, tag: tuple[int, int, str] | None) -> str:
    if not target.resolved:
        return "this digest was never scanned"
    was = f" (it was last scanned at {tag[2][:19]}…)" if tag and tag[2] else ""
    return (
        f"tag {target.tag} now points at {target.digest[:19]}… at its registry, which no "
        f"scanner Remediator hears from has scanned{was}"
    )


def facts_load(targets: list[Target], rules: list[AdmissionRule]) -> dict[str, Known]:
    """{target key: what is known}, for any number of targets in seven queries; the
    findings' facts are what ``rules`` need (``criteria_fields``)."""
    targets = list({t.key: t for t in targets}.values())
    if not targets:
        return {}
    tables = _tables(targets)
    chosen = _chosen_scans(tables)
    sets = scan_finding_id_sets(sorted({pk for scans in chosen.values() for pk, _ in scans}))
    findings = _findings({i for ids in sets.values() for i in ids}, rules)
    plans: dict[str, tuple[Target, Identity | None, tuple[int, int, str] | None]] = {}
    answers: dict[str, Known] = {}
    for target in targets:
        repository = tables.repositories.get(target.ref.name)
        tag = tables.tags.get((repository, target.tag)) if repository else None
        if target.digest:
            identity: Identity = ("digest", target.digest)
            if identity not in tables.images:
                answers[target.key] = (None, _unknown_digest(target, tag))
                continue
        elif repository is None:
            answers[target.key] = (None, NEVER_SCANNED)
            continue
        elif tag is None:
            answers[target.key] = (None, "this tag was never scanned")
            continue
        else:
            identity = ("digest", tag[2]) if tag[2] else ("image", tag[1])
        if not chosen.get(identity):
            answers[target.key] = (None, "no successful scan of this digest")
            continue
        plans[target.key] = (target, identity, tag)
    tag_ids = {tag[0] for _, _, tag in plans.values() if tag}
    tag_ids |= {fact.tag_id for fact in findings.values()}
    actions = _actions(tag_ids)
    for key, (target, identity, tag) in plans.items():
        scans = chosen[identity]
        listed = sorted({i for pk, _ in scans for i in sets.get(pk, ()) if i in findings})
        own_tags = {findings[i].tag_id for i in listed} | ({tag[0]} if tag else set())
        where = sorted({repository for _, repository in scans})
        answers[key] = (
            ImageFacts(
                repository=target.ref.name,
                digest=target.digest or (tag[2] if tag else ""),
                findings=tuple(findings[i] for i in listed),
                action=_action(own_tags, actions) if listed else None,
                scanned_as=tuple(where) if where != [target.ref.name] else (),
            ),
            "",
        )
    return answers
