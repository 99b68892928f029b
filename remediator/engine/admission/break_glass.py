"""Who may use break-glass, and what counts as a reason: pure, no Django.

The ``remediator.io/break-glass: "<reason>"`` annotation admits what policy would deny.
It is honoured only when it is switched on, the namespace and the requesting user (or
one of their groups, as the review's ``userInfo`` names them) are allowed, and the reason
is real: at least ``min_reason`` letters or digits, no control or invisible formatting
characters. Otherwise the denial stands and says why (never which users or groups would
have been allowed).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from fnmatch import fnmatchcase

MAX_REASON = 500


@dataclass(frozen=True)
class BreakGlassPolicy:
    enabled: bool = False
    namespaces: tuple[str, ...] = ()
    """Globs over the namespace; empty: any namespace (when users or groups are set)."""
    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    """With neither users nor groups, anyone in the allowed namespaces."""
    min_reason: int = 10

    @property
    def active(self) -> bool:
        """On, and told by whom or where: with no list set it is off."""
        return self.enabled and bool(self.namespaces or self.users or self.groups)


@dataclass(frozen=True)
class BreakGlass:
    """What a review's annotation amounts to: a reason to honour, or why not."""

    reason: str = ""
    refused: str = ""
    result: str = "none"
    """none (no annotation) | used | refused_off | refused_who | refused_reason"""


def _unprintable(text: str) -> bool:
    """Control (Cc), format (Cf: bidi overrides, zero-width), surrogate or private-use
    characters: a reason is read by people, and these hide or reorder what they read."""
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in text)


def reason_needs(policy: BreakGlassPolicy) -> str:
    return (
        f"a break-glass reason needs at least {policy.min_reason} letters or digits "
        "(a ticket and what is on fire) and no control characters"
    )


def valid_reason(text: str, policy: BreakGlassPolicy) -> str:
    """The reason, stripped and at most MAX_REASON characters; '' when it is not one."""
    text = text.strip()
    if _unprintable(text) or sum(ch.isalnum() for ch in text) < policy.min_reason:
        return ""
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def may_break_glass(
    policy: BreakGlassPolicy, *, namespace: str, username: str, groups: tuple[str, ...]
) -> bool:
    if not policy.active:
        return False
    if policy.namespaces and not any(fnmatchcase(namespace, g) for g in policy.namespaces):
        return False
    if not (policy.users or policy.groups):
        return True
    return username in policy.users or any(group in policy.groups for group in groups)


def break_glass_check(
    policy: BreakGlassPolicy,
    annotation: str | None,
    *,
    namespace: str,
    username: str,
    groups: tuple[str, ...],
) -> BreakGlass:
    """Honour the annotation, or say why not (``refused`` goes into the denial)."""
    if annotation is None:
        return BreakGlass()
    if not policy.active:
        return BreakGlass(
            refused="break-glass is not enabled on this cluster", result="refused_off"
        )
    if not may_break_glass(policy, namespace=namespace, username=username, groups=groups):
        return BreakGlass(
            refused="this user may not use break-glass in this namespace "
            "(ADMISSION_BREAK_GLASS_USERS, _GROUPS and _NAMESPACES say who may)",
            result="refused_who",
        )
    reason = valid_reason(annotation, policy)
    if not reason:
        return BreakGlass(refused=reason_needs(policy), result="refused_reason")
    return BreakGlass(reason=reason, result="used")
