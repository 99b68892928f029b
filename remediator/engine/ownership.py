"""Which team owns each image repository: the first ownership rule that matches.

A rule's conditions all hold at once: the repository's name (``image_glob``, the same
glob policies use), a name in its list (``repositories``), and, for the namespace and
label conditions, one workload seen running the image (inventory, admission reviews,
Kubernetes reports) in a matching namespace carrying the label. Rules are tried by
``order``; no match leaves the repository unowned. The result and the reason are stored
on the repository; findings whose owner changed get their deadlines again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from django.db import transaction
from django.db.models import QuerySet

from findings.bulk import in_ids
from findings.models import Finding, Repository, RunningImage
from remediator.engine.rules.criteria import image_matches
from remediator.engine.services.deadlines import due_dates_refresh
from remediator.teams.models import OwnershipRule

OPEN = (Finding.Status.OPEN, Finding.Status.IN_REMEDIATION)


@dataclass(frozen=True)
class Sighting:
    """One workload seen running an image: where, and with which labels."""

    namespace: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class Rule:
    team_id: int
    order: int
    image_glob: str = ""
    namespace_glob: str = ""
    label_key: str = ""
    label_value: str = ""
    repositories: tuple[str, ...] = ()

    @classmethod
    def of(cls, rule: OwnershipRule) -> Rule:
        return cls(
            team_id=rule.team_id,
            order=rule.order,
            image_glob=rule.image_glob,
            namespace_glob=rule.namespace_glob,
            label_key=rule.label_key,
            label_value=rule.label_value,
            repositories=tuple(str(name) for name in rule.repositories or ()),
        )

    def match(self, repository: str, sightings: Sequence[Sighting]) -> str:
        """Why this rule matches ``repository`` ("" when it does not)."""
        reasons = []
        if self.repositories:
            if repository not in self.repositories:
                return ""
            reasons.append("named in the team's repositories")
        if self.image_glob:
            if not image_matches(self.image_glob, repository):
                return ""
            reasons.append(f"image {self.image_glob}")
        if self.namespace_glob or self.label_key:
            seen = next((s for s in sightings if self._where(s)), None)
            if seen is None:
                return ""
            if self.namespace_glob:
                reasons.append(f"runs in namespace {seen.namespace}")
            if self.label_key:
                reasons.append(f"label {self.label_key}={seen.labels.get(self.label_key, '')}")
        return ", ".join(reasons)

    def _where(self, sighting: Sighting) -> bool:
        if self.namespace_glob and not fnmatchcase(sighting.namespace, self.namespace_glob):
            return False
        if self.label_key:
            value = sighting.labels.get(self.label_key)
            if value is None or (self.label_value and value != self.label_value):
                return False
        return True


def owner_of(
    rules: Iterable[Rule], repository: str, sightings: Sequence[Sighting]
) -> tuple[int | None, str]:
    """The first matching rule's team and why, or (None, "") when unowned."""
    for rule in sorted(rules, key=lambda r: r.order):
        why = rule.match(repository, sightings)
        if why:
            return rule.team_id, f"rule {rule.order}: {why}"
    return None, ""


def _sightings(repository_ids: Iterable[int]) -> dict[int, list[Sighting]]:
    found: dict[int, list[Sighting]] = defaultdict(list)
    rows = RunningImage.objects.filter(repository_id__in=list(repository_ids)).values_list(
        "repository_id", "namespace", "labels"
    )
    for repository_id, namespace, labels in rows:
        found[repository_id].append(Sighting(namespace, labels if isinstance(labels, dict) else {}))
    return found


def owners_refresh(repositories: QuerySet[Repository] | None = None) -> int:
    """Apply the ownership rules to ``repositories`` (all by default); how many changed
    owner. Their open findings' deadlines follow the new owner's SLA policy."""
    rules = [Rule.of(rule) for rule in OwnershipRule.objects.all()]
    chosen = Repository.objects.all() if repositories is None else repositories
    changed: list[Repository] = []
    for batch in _batches(
        chosen.order_by("pk").only("pk", "registry", "name", "owner_id", "owner_reason")
    ):
        sightings = _sightings(repo.pk for repo in batch)
        for repo in batch:
            team_id, why = owner_of(rules, str(repo), sightings.get(repo.pk, ()))
            if (team_id, why) != (repo.owner_id, repo.owner_reason):
                repo.owner_id, repo.owner_reason = team_id, why
                changed.append(repo)
    with transaction.atomic():
        Repository.objects.bulk_update(changed, ["owner", "owner_reason"], batch_size=1000)
    moved = {repo.pk for repo in changed}
    if moved:
        due_dates_refresh(Finding.objects.filter(repository_id__in=moved, status__in=OPEN))
    return len(changed)


def repositories_of(repository_ids: list[int] | None) -> QuerySet[Repository] | None:
    """The repositories named by id (None: every one, as ``owners_refresh`` takes it)."""
    if repository_ids is None:
        return None
    return Repository.objects.filter(pk__in=in_ids(sorted(set(repository_ids))))


def owner_refresh_first(repository: Repository) -> None:
    """A scan's repository gets its owner before its findings get deadlines, while it
    has none worked out (``owner_reason`` empty: new, or unowned so far): one
    repository's rules check per scan."""
    if not repository.owner_reason:
        owners_refresh(Repository.objects.filter(pk=repository.pk))


def _batches(repositories: QuerySet[Repository], size: int = 1000):
    batch = []
    for repo in repositories.iterator(chunk_size=size):
        batch.append(repo)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
