"""Admission in view: what each admission policy would deny today, for the Policies page
and the API.

Two questions (``rules.would_deny``, the webhook's own matcher): the live inventory —
every container seen running, judged as if admitted now to its namespace — and the
admission reviews of the last N days that the webhook allowed, judged again by today's
policy. Both read the facts of every image they name through ``lookups.facts_load`` in
one batch (seven queries whatever the number of images); the inventory is one query, the
reviews one more (the newest MAX_REVIEWS allowed ones). Tags are judged by the digest the
inventory (or the review) recorded, else by the tag's last scanned digest: no registry is
asked here.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from findings.parsers.images import try_image_reference
from remediator.cluster.selectors import running_containers
from remediator.engine.models import AdmissionPolicy, AuditEvent, BuildTarget
from remediator.engine.rules.admission import AdmissionRule, ImageFacts
from remediator.engine.rules.criteria import image_matches
from remediator.engine.rules.would_deny import (
    Container,
    PastReview,
    Tally,
    reviews_would_deny,
    would_deny,
)
from remediator.engine.services.policy_rules import rule_from_row

from .lookups import Target, facts_load

log = logging.getLogger(__name__)
DEFAULT_DAYS = 7
MAX_DAYS = 90
LISTED = 20
"""Hits listed per policy and question (the counts cover all)."""
MAX_REVIEWS = 20_000
"""Allowed reviews judged at most (the newest): the page says when there were more."""
CACHE_SECONDS = 60
"""How long an answer is reused (the same window, policies and build targets unchanged):
at a large inventory it takes seconds, and the page may be reloaded often."""
ALLOWED_OUTCOMES = ("allow", "warn")
"""Reviews the webhook let in on their merits (a break-glass one was already denied)."""


@dataclass
class PolicyInView:
    policy: AdmissionPolicy
    build_targets: list[BuildTarget]
    """Enabled build targets whose patterns overlap the policy's image glob."""
    running: Tally
    reviews: Tally


@dataclass
class AdmissionInView:
    policies: list[PolicyInView]
    days: int
    since: datetime
    until: datetime
    containers: int
    """Live containers in the inventory."""
    reviews: int
    """Allowed reviews of the window judged."""
    reviews_capped: bool
    """More than MAX_REVIEWS allowed reviews: only the newest were judged."""


def policy_build_targets(image_glob: str, targets: Iterable[BuildTarget]) -> list[BuildTarget]:
    """The targets that could rebuild what a policy with ``image_glob`` selects: every one
    when the glob is empty (every image), else those with a pattern the glob matches or
    that matches the glob (either way round: both are globs over "registry/name")."""
    # a bare name ("alpine") selects Docker Hub's official image, as at admission
    globs = [image_glob] + ([f"docker.io/library/{image_glob}"] if "/" not in image_glob else [])
    found = []
    for target in targets:
        patterns = [str(p) for p in target.image_patterns or ()]
        if not image_glob or any(
            p == glob or image_matches(glob, p) or image_matches(p, glob)
            for p in patterns
            for glob in globs
        ):
            found.append(target)
    return found


def _target(reference: str, digest: str) -> Target | None:
    ref = try_image_reference(reference, strict=True)
    if ref is None:
        return None
    digest = ref.digest or (digest if digest.startswith("sha256:") else "")
    return Target(ref, digest)


class _Images:
    """The targets named by inventory rows and reviews, their facts loaded in one batch."""

    def __init__(self) -> None:
        self.targets: dict[tuple[str, str], Target | None] = {}
        self.facts: dict[tuple[str, str], ImageFacts | None] = {}

    def add(self, reference: str, digest: str) -> tuple[str, str]:
        key = (reference, digest)
        if key not in self.targets:
            self.targets[key] = _target(reference, digest)
        return key

    def load(self, rules: list[AdmissionRule]) -> None:
        found = [t for t in self.targets.values() if t is not None]
        known = facts_load(found, rules) if found else {}
        self.facts = {
            key: known.get(target.key, (None, ""))[0] if target is not None else None
            for key, target in self.targets.items()
        }

    def container(self, key: tuple[str, str], **where: str) -> Container:
        return Container(reference=key[0], facts=self.facts[key], **where)


def _running(images: _Images) -> list[tuple[tuple[str, str], dict]]:
    rows = []
    for cluster, namespace, kind, name, container, reference, digest in running_containers():
        where = dict(cluster=cluster, namespace=namespace, kind=kind, name=name)
        rows.append((images.add(reference, digest), {**where, "container": container}))
    return rows


def _reviews(images: _Images, since: datetime) -> tuple[list[tuple[dict, list]], bool]:
    events = (
        AuditEvent.objects.filter(
            kind=AuditEvent.Kind.ADMISSION, created_at__gte=since, to_state__in=ALLOWED_OUTCOMES
        )
        .exclude(object_id__startswith="cli:")
        .order_by("-id")
        .values_list("data", flat=True)
    )
    reviews = []
    data_rows = list(events[: MAX_REVIEWS + 1])
    for data in data_rows[:MAX_REVIEWS]:
        if not isinstance(data, dict) or data.get("dry_run") is True:
            continue
        where = {
            "cluster": str(data.get("cluster") or ""),
            "namespace": str(data.get("namespace") or ""),
            "kind": str(data.get("kind") or ""),
            "name": str(data.get("name") or ""),
        }
        containers = []
        for image in data.get("images") or ():
            if isinstance(image, dict) and isinstance(image.get("image"), str):
                key = images.add(image["image"], str(image.get("digest") or ""))
                containers.append((key, str(image.get("container") or "")))
        reviews.append((where, containers))
    return reviews, len(data_rows) > MAX_REVIEWS


def admission_in_view(
    *,
    days: int = DEFAULT_DAYS,
    policy_ids: list[int] | None = None,
    now: datetime | None = None,
    limit: int = LISTED,
) -> AdmissionInView:
    """Every admission policy (or those of ``policy_ids``), enabled or not, with what it
    would deny today over the inventory and over the last ``days`` days of reviews."""
    days = max(1, min(days, MAX_DAYS))
    until = now or timezone.now()
    since = until - timedelta(days=days)
    policies = AdmissionPolicy.objects.order_by("order", "id")
    if policy_ids is not None:
        policies = policies.filter(pk__in=policy_ids)
    policies = list(policies)
    rules = [rule_from_row(AdmissionRule, p) for p in policies]
    targets = list(BuildTarget.objects.filter(enabled=True).order_by("id"))
    images = _Images()
    running = _running(images) if policies else []
    reviews, capped = _reviews(images, since) if policies else ([], False)
    images.load(rules)
    containers = [images.container(key, **where) for key, where in running]
    past = [
        PastReview(
            containers=tuple(images.container(k, container=c, **where) for k, c in judged),
            **where,
        )
        for where, judged in reviews
    ]
    shown = [
        PolicyInView(
            policy=policy,
            build_targets=policy_build_targets(policy.image_glob, targets),
            running=would_deny(rule, containers, now=until, limit=limit),
            reviews=reviews_would_deny(rule, past, now=until, limit=limit),
        )
        for policy, rule in zip(policies, rules, strict=True)
    ]
    return AdmissionInView(
        policies=shown,
        days=days,
        since=since,
        until=until,
        containers=len(containers),
        reviews=len(past),
        reviews_capped=capped,
    )


def _cache_key(days: int, policies: list, policy_ids: list[int] | None) -> str:
    targets = BuildTarget.objects.order_by("id").values_list("id", "updated_at")
    state = repr((days, policy_ids, LISTED, policies, list(targets)))
    return "admission:in-view:" + hashlib.sha256(state.encode()).hexdigest()


def admission_in_view_cached(*, days: int, policy_ids: list[int] | None = None) -> AdmissionInView:
    """``admission_in_view``, reused for CACHE_SECONDS while the window, the policies and
    the build targets are the same (two small queries to know; one when there is no
    admission policy, and nothing to judge); a cache that cannot be reached only means
    computing it again."""
    days = max(1, min(days, MAX_DAYS))
    policies = AdmissionPolicy.objects.order_by("id").values_list("id", "updated_at")
    if policy_ids is not None:
        policies = policies.filter(pk__in=policy_ids)
    policies = list(policies)
    if not policies:
        now = timezone.now()
        return AdmissionInView([], days, now - timedelta(days=days), now, 0, 0, False)
    key = _cache_key(days, policies, policy_ids)
    try:
        cached = cache.get(key)
    except Exception:
        cached = None
    if isinstance(cached, AdmissionInView):
        return cached
    view = admission_in_view(days=days, policy_ids=policy_ids)
    try:
        cache.set(key, view, CACHE_SECONDS)
    except Exception:
        log.warning("admission in view: result not cached")
    return view
