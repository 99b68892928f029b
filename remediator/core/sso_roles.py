"""Which role an identity provider's groups give a person (pure: no Django).

Three roles, mapped from groups named in settings: Admin (staff and superuser), Approver
(the "Security approvers" group) and Viewer (the "Viewer" group). Group names are compared
exactly, as the provider sends them. A person in none of the mapped groups has no role and
is refused sign-in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    APPROVER = "approver"
    VIEWER = "viewer"


def groups_from_claims(claims: Mapping[str, object], claim_names: Iterable[str]) -> set[str]:
    """Every value of the named claims: each may be a list of strings or one string."""
    groups: set[str] = set()
    for name in claim_names:
        value = claims.get(name.strip())
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple):
            groups.update(item for item in value if isinstance(item, str) and item)
    return groups


def roles_for_groups(
    groups: Iterable[str],
    *,
    admin: Iterable[str],
    approver: Iterable[str],
    viewer: Iterable[str],
) -> frozenset[Role]:
    """The roles the groups map to (empty: refused)."""
    mine = set(groups)
    mapping = {Role.ADMIN: admin, Role.APPROVER: approver, Role.VIEWER: viewer}
    return frozenset(role for role, names in mapping.items() if mine & set(names))
