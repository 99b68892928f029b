"""What a single sign-on gives a person, re-evaluated at each sign-in, and its audit trail.

Roles: Admin is staff and superuser, Approver the "Security approvers" group, Viewer the
"Viewer" group (remediator/core/permissions.py); the identity provider's groups decide them
at every sign-in, so a group removed there takes the role away at the next one. Other
groups given by hand are left alone. Teams: every team whose ``sso_groups`` meet the
person's groups gets a membership of source "sso"; SSO memberships the groups no longer
give are removed; manual memberships are never touched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.contrib.auth.models import AbstractUser, Group
from django.db import transaction
from django.utils import timezone

from remediator.core.permissions import GROUP_APPROVERS, GROUP_VIEWER
from remediator.core.sso_roles import Role
from remediator.engine.audit import audit_record
from remediator.engine.models import AuditEvent
from remediator.teams.models import SsoIdentity, Team, TeamMembership

logger = logging.getLogger(__name__)
ROLE_GROUPS = {Role.APPROVER: GROUP_APPROVERS, Role.VIEWER: GROUP_VIEWER}


def sso_roles_apply(*, user: AbstractUser, roles: frozenset[Role]) -> None:
    """Set the staff flags and the two role groups to exactly what ``roles`` say."""
    admin = Role.ADMIN in roles
    if (user.is_staff, user.is_superuser) != (admin, admin):
        user.is_staff = user.is_superuser = admin
        user.save(update_fields=["is_staff", "is_superuser"])
    for role, name in ROLE_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        if role in roles:
            user.groups.add(group)
        else:
            user.groups.remove(group)


def sso_teams_sync(*, user: AbstractUser, groups: Iterable[str]) -> list[str]:
    """SSO memberships made to match ``groups``; the slugs of every team the user is in."""
    mine = set(groups)
    wanted = {
        team.pk
        for team in Team.objects.exclude(sso_groups=[]).only("pk", "sso_groups")
        if isinstance(team.sso_groups, list) and mine & set(team.sso_groups)
    }
    memberships = TeamMembership.objects.filter(user=user)
    memberships.filter(source=TeamMembership.Source.SSO).exclude(team_id__in=wanted).delete()
    have = set(memberships.values_list("team_id", flat=True))
    TeamMembership.objects.bulk_create(
        TeamMembership(team_id=pk, user=user, source=TeamMembership.Source.SSO)
        for pk in sorted(wanted - have)
    )
    return sorted(Team.objects.filter(memberships__user=user).values_list("slug", flat=True))


@transaction.atomic
def sso_sign_in(
    *, user: AbstractUser, identity: SsoIdentity, roles: frozenset[Role], groups: Iterable[str]
) -> list[str]:
    """Roles and teams applied, the sign-in recorded; returns the user's team slugs."""
    groups = sorted(set(groups))
    sso_roles_apply(user=user, roles=roles)
    teams = sso_teams_sync(user=user, groups=groups)
    identity.last_sign_in_at = timezone.now()
    identity.save(update_fields=["last_sign_in_at"])
    audit_record(
        kind=AuditEvent.Kind.SIGN_IN,
        actor=user,
        actor_label=user.get_username(),
        obj=user,
        message=f"signed in through single sign-on as {', '.join(sorted(roles))}",
        data={"issuer": identity.issuer, "roles": sorted(roles), "teams": teams},
    )
    return teams


@transaction.atomic
def sso_refusal_record(
    *, user: AbstractUser | None, subject: str, issuer: str, groups: Iterable[str], reason: str
) -> None:
    """A refused sign-in: audited and logged; a known user loses every SSO role and team."""
    groups = sorted(set(groups))
    if user is not None:
        sso_roles_apply(user=user, roles=frozenset())
        sso_teams_sync(user=user, groups=())
    label = user.get_username() if user is not None else f"sso:{subject}"
    logger.warning("single sign-on refused for %r: %s", label, reason)
    audit_record(
        kind=AuditEvent.Kind.SIGN_IN,
        actor_label=label[:150],
        obj=user,
        message=f"single sign-on refused: {reason}",
        data={"issuer": issuer, "subject": subject, "groups": groups[:100]},
    )


def break_glass_record(*, user: AbstractUser, address: str) -> None:
    """A superuser signed in with a password while local login is off: audited, logged."""
    logger.warning("break-glass local sign-in by %r from %s", user.get_username(), address)
    audit_record(
        kind=AuditEvent.Kind.SIGN_IN,
        actor=user,
        obj=user,
        message="break-glass local sign-in (local login is switched off)",
        data={"address": address},
    )


def local_login_refusal_record(*, username: str, address: str, reason: str) -> None:
    """A password sign-in refused because local login is off: audited, logged."""
    logger.warning("local sign-in refused for %r from %s: %s", username, address, reason)
    audit_record(
        kind=AuditEvent.Kind.SIGN_IN,
        actor_label=username[:150] or "anonymous",
        message=f"local sign-in refused: {reason}",
        data={"address": address},
    )
