"""What the database knows about the images of a pod, through the shared cache.

Per image reference, the digest it resolves to (the reference's own ``@sha256:…``, else
the image its tag points at: the newest scan of the tag) and the findings the newest
successful scan of that digest by each scanner lists, with their status, KEV and EPSS,
plus the tag's open remediation action. Entries carry the cache *generation*, which
``admission_cache_bump`` moves whenever something they depend on changes (a scan is
ingested, a finding's status or an action's state changes, an admission policy is
edited); ``ADMISSION_CACHE_SECONDS`` bounds what no signal reports (threat-intel imports).
One ``get_many`` answers a request whose images are all cached.
"""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from findings.models import Finding, Image, Repository, ScanFinding, Tag
from findings.parsers.images import try_image_reference
from remediator.core.metrics import ADMISSION_CACHE
from remediator.core.severity import severity_rank
from remediator.engine.models import OPEN_STATES, ActionKind, AdmissionPolicy, RemediationAction

from .rules import ActionFact, FindingFact, ImageFacts, Rule

GENERATION_KEY = "admission:generation"
POLICIES_KEY = "admission:policies"
Known = tuple[ImageFacts | None, str]
"""(facts, '') for a scanned digest; (None, why) for an unknown image."""


def admission_cache_bump() -> None:
    """Invalidate every cached verdict input (cheap: one cache write)."""
    cache.set(GENERATION_KEY, uuid.uuid4().hex, None)


def _image_key(reference: str) -> str:
    return "admission:image:" + hashlib.sha256(reference.encode()).hexdigest()[:40]


def load_rules() -> list[Rule]:
    return [
        Rule(
            name=policy.name,
            mode=policy.mode,
            min_severity_rank=severity_rank(policy.min_severity),
            fixable_for_days=policy.fixable_for_days,
            kev=policy.kev,
            min_epss=policy.min_epss,
            image_glob=policy.image_glob,
            namespace_glob=policy.namespace_glob,
        )
        for policy in AdmissionPolicy.objects.filter(enabled=True).order_by("order", "id")
    ]


def _action(tag_ids: set[int]) -> ActionFact | None:
    actions = list(
        RemediationAction.objects.filter(tag_id__in=tag_ids, state__in=OPEN_STATES)
        .only("id", "kind", "state")
        .order_by("-id")[:10]
    )
    if not actions:
        return None
    action = next((a for a in actions if a.kind == ActionKind.REBUILD), actions[0])
    url = settings.BASE_URL + reverse("action-detail", args=[action.pk])
    return ActionFact(id=action.pk, kind=action.kind, state=action.state, url=url)


def load_image(reference: str) -> Known:
    """Facts of the digest ``reference`` names (a few indexed queries)."""
    ref = try_image_reference(reference)
    if ref is None:
        return None, "not a valid image reference"
    repository = Repository.objects.filter(registry=ref.registry, name=ref.repository).first()
    if repository is None:
        return None, "never scanned by any scanner Remediator hears from"
    tag = Tag.objects.filter(repository=repository, name=ref.tag or "latest").first()
    if ref.digest:
        image = Image.objects.filter(repository=repository, digest=ref.digest).first()
    else:
        image = tag.image if tag is not None else None
    if image is None:
        return None, "this digest was never scanned" if ref.digest else "this tag was never scanned"
    newest: dict[str, int] = {}
    for scan_id, scanner in (
        image.scans.filter(failure="")
        .order_by("-scanned_at", "-id")
        .values_list("id", "scanner_key")
    ):
        newest.setdefault(scanner, scan_id)
    if not newest:
        return None, "no successful scan of this digest"
    rows = Finding.objects.filter(
        pk__in=ScanFinding.objects.filter(scan_id__in=newest.values()).values("finding_id")
    ).values_list(
        "vulnerability_id",
        "severity",
        "severity_rank",
        "package",
        "fixable_since",
        "status",
        "accepted_until",
        "tag_id",
        "vulnerability__intel__kev",
        "vulnerability__intel__epss_score",
    )
    findings, tag_ids = [], {tag.pk} if tag is not None else set()
    for vuln, severity, rank, package, since, status, until, tag_id, kev, epss in rows:
        tag_ids.add(tag_id)
        findings.append(
            FindingFact(
                vulnerability=vuln,
                severity=severity,
                severity_rank=rank,
                package=package,
                fixable_since=since,
                kev=bool(kev),
                epss=epss,
                status=status,
                accepted_until=until,
            )
        )
    facts = ImageFacts(
        repository=str(repository),
        digest=image.digest,
        findings=tuple(findings),
        action=_action(tag_ids) if findings else None,
    )
    return facts, ""


def admission_facts(references: list[str]) -> tuple[list[Rule], dict[str, Known]]:
    """The enabled admission policies and the facts of each reference, cached."""
    keys = {reference: _image_key(reference) for reference in references}
    found = cache.get_many([GENERATION_KEY, POLICIES_KEY, *keys.values()])
    generation = found.get(GENERATION_KEY)
    if generation is None:
        generation = uuid.uuid4().hex
        cache.set(GENERATION_KEY, generation, None)
    timeout = settings.ADMISSION_CACHE_SECONDS
    fresh: dict[str, object] = {}
    cached = found.get(POLICIES_KEY)
    if isinstance(cached, tuple) and cached[0] == generation:
        rules = cached[1]
    else:
        rules = load_rules()
        fresh[POLICIES_KEY] = (generation, rules)
    known: dict[str, Known] = {}
    for reference, key in keys.items():
        cached = found.get(key)
        if isinstance(cached, tuple) and cached[0] == generation:
            known[reference] = cached[1]
            ADMISSION_CACHE.labels(result="hit").inc()
            continue
        ADMISSION_CACHE.labels(result="miss").inc()
        known[reference] = load_image(reference)
        fresh[key] = (generation, known[reference])
    if fresh:
        cache.set_many(fresh, timeout)
    return rules, known
