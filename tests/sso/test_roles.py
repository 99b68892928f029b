"""The mapping from an identity provider's groups to roles, as a table (no database)."""

from __future__ import annotations

import pytest

from remediator.core.sso_roles import Role, groups_from_claims, roles_for_groups

MAPPING = {
    "admin": ["idp-admins"],
    "approver": ["secops", "/remediator/approvers"],
    "viewer": ["engineering", "example.com"],
}
A, P, V = Role.ADMIN, Role.APPROVER, Role.VIEWER


@pytest.mark.parametrize(
    ("groups", "roles"),
    [
        ([], set()),
        (["marketing"], set()),
        (["engineering"], {V}),
        (["secops"], {P}),
        (["/remediator/approvers"], {P}),
        (["idp-admins"], {A}),
        (["engineering", "secops"], {P, V}),
        (["idp-admins", "secops", "engineering", "x"], {A, P, V}),
        (["SecOps"], set()),  # compared exactly, as the provider sends them
        (["remediator/approvers"], set()),  # Keycloak's full path must match
        (["secops "], set()),
    ],
)
def test_groups_map_to_roles(groups, roles):
    assert roles_for_groups(groups, **MAPPING) == frozenset(roles)


@pytest.mark.parametrize(
    ("claims", "names", "groups"),
    [
        ({"groups": ["a", "b"]}, ["groups"], {"a", "b"}),
        ({"groups": "a"}, ["groups"], {"a"}),  # one group as a string
        ({}, ["groups"], set()),
        ({"groups": None}, ["groups"], set()),
        ({"groups": [1, {"x": 1}, "", "a"]}, ["groups"], {"a"}),  # only non-empty strings
        ({"groups": {"a": True}}, ["groups"], set()),
        ({"roles": ["r"], "groups": ["g"]}, ["roles"], {"r"}),  # Entra ID app roles
        (
            {"hd": "example.com", "email": "x@example.com"},
            ["hd", "email"],
            {"example.com", "x@example.com"},
        ),
        ({"groups": ["g"]}, [" groups"], {"g"}),
    ],
)
def test_groups_come_from_the_named_claims(claims, names, groups):
    assert groups_from_claims(claims, names) == groups


def test_a_google_workspace_domain_and_an_address_can_give_roles():
    groups = groups_from_claims({"hd": "example.com", "email": "ann@example.com"}, ["hd", "email"])
    mapping = {"admin": [], "approver": ["ann@example.com"], "viewer": ["example.com"]}
    assert roles_for_groups(groups, **mapping) == {P, V}
