"""Checklist items about build targets: each one's configuration, secrets ("set" or
"not set", never a value) and whether its CI system answers; and the images that
actions wait to rebuild or patch with no build target to do it."""

from __future__ import annotations

from django.urls import reverse
from django.utils.timesince import timesince

from findings.models import Repository
from remediator.core.secrets import MissingSecret, read_target_secret
from remediator.engine.models import BUILDING_KINDS, ActionState, BuildTarget, RemediationAction
from remediator.engine.target_checks import target_covering, target_problems, targets_enabled

from .items import Item, Status
from .pings import Pings

AREA = "Build targets"
PENDING = (
    ActionState.PROPOSED,
    ActionState.AWAITING_APPROVAL,
    ActionState.APPROVED,
    ActionState.FAILED,
    ActionState.VERIFICATION_FAILED,
)
"""Actions that approving or retrying would still dispatch."""
UNCOVERED_SHOWN = 10


def _secret_state(name: str) -> str:
    try:
        read_target_secret(name)
    except MissingSecret:
        return "not set"
    return "set"


def _reachability(target: BuildTarget, pings: Pings | None) -> tuple[str, bool]:
    """(what the last check said, whether it failed)."""
    if pings is None or target.pk not in pings.targets:
        return "Not checked yet (manage.py check_targets --ping).", False
    problem = pings.targets[target.pk]
    when = f"{timesince(pings.as_of)} ago"
    if problem:
        return f"Not reachable when checked {when}: {problem}", True
    return f"Answered and accepted its credentials {when}.", False


def target_item(target: BuildTarget, pings: Pings | None) -> Item:
    secrets = [
        f"{field} {name}: {_secret_state(name)}"
        for field, name in (
            ("token_env", target.token_env),
            ("api_token_env", target.api_token_env),
        )
        if name
    ]
    problems = target_problems(target)
    reach, unreachable = _reachability(target, pings)
    patterns = ", ".join(map(str, target.image_patterns or ())) or "no image pattern"
    detail = f"{target.get_provider_display()} {target.project}@{target.ref} for {patterns}. "
    detail += ("Secrets: " + "; ".join(secrets) + ". ") if secrets else ""
    edit = reverse("admin:remediator_buildtarget_change", args=[target.pk])
    if not target.enabled:
        return Item(
            key=f"target-{target.name}",
            area=AREA,
            title=f"Build target {target.name}",
            status=Status.WARNING,
            detail=detail + "Disabled: no action uses it.",
            fix="enable it in the admin",
            fix_url=edit,
        )
    if problems:
        return Item(
            key=f"target-{target.name}",
            area=AREA,
            title=f"Build target {target.name}",
            status=Status.MISSING,
            detail=detail + "Problems: " + "; ".join(problems) + ".",
            fix="manage.py check_targets names each problem; edit the target in the admin",
            fix_url=edit,
            required=True,
        )
    return Item(
        key=f"target-{target.name}",
        area=AREA,
        title=f"Build target {target.name}",
        status=Status.WARNING if unreachable else Status.OK,
        detail=detail + reach,
        fix="check its URL and token, then manage.py check_targets --ping" if unreachable else "",
        fix_url=edit if unreachable else "",
    )


def target_items(pings: Pings | None) -> list[Item]:
    targets = list(BuildTarget.objects.order_by("name"))
    items = [target_item(target, pings) for target in targets]
    if not any(t.enabled for t in targets):
        items.insert(
            0,
            Item(
                key="targets-none",
                area=AREA,
                title="A build target",
                status=Status.MISSING,
                required=True,
                detail="No enabled build target: no rebuild or fix pull request can be dispatched.",
                fix="add one (provider, project, image patterns, token_env) in the admin",
                fix_url=reverse("admin:remediator_buildtarget_add"),
            ),
        )
    return items


def uncovered_images() -> list[str]:
    """Images with a rebuild or fix pull request still to dispatch that no enabled build
    target covers (their own target, if any, disabled or deleted)."""
    pending = RemediationAction.objects.filter(kind__in=BUILDING_KINDS, state__in=PENDING)
    own_enabled = pending.filter(build_target__enabled=True).values("repository_id")
    ids = set(
        pending.exclude(repository_id__in=own_enabled)
        .order_by()
        .values_list("repository_id", flat=True)
        .distinct()[:2000]
    )
    enabled = targets_enabled()
    names = [str(r) for r in Repository.objects.filter(pk__in=ids)]
    return sorted(n for n in names if target_covering(n, enabled) is None)


def uncovered_item() -> Item:
    names = uncovered_images()
    if not names:
        return Item(
            key="targets-uncovered",
            area=AREA,
            title="Images waiting for a rebuild",
            status=Status.OK,
            detail="Each rebuild or fix pull request waiting has a build target.",
        )
    shown = ", ".join(names[:UNCOVERED_SHOWN]) + (" …" if len(names) > UNCOVERED_SHOWN else "")
    return Item(
        key="targets-uncovered",
        area=AREA,
        title="Images no build target covers",
        status=Status.MISSING,
        required=True,
        detail=f"{len(names)} image(s) have a rebuild or fix pull request waiting that cannot "
        f"be dispatched: {shown}.",
        fix="add a build target whose image patterns match them, in the admin",
        fix_url=reverse("admin:remediator_buildtarget_add"),
    )
