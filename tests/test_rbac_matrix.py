"""Who may do what: every route of the URLconf (API and dashboard) x six kinds of user.

One row per (method, path); the columns are the users below. A cell says:

    ok     passed the permission check (any answer but 401, 403 or a redirect to sign-in:
           200/201/202, or 404/409/405 from the view itself)
    401    the API asks for credentials
    403    signed in, not allowed
    login  the dashboard redirects to /login/?next=...

Each path is resolved to its route in the URLconf: a new route without a row fails
``test_every_route_has_a_row_and_every_row_a_route`` (Django's admin, under /admin/,
checks staff itself and is left out).
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.test import APIClient

from findings.models import Finding
from remediator.core.permissions import GROUP_APPROVERS, GROUP_VIEWER
from remediator.engine.management.commands.demo import ensure_groups
from remediator.engine.models import AdmissionPolicy, Policy
from remediator.engine.ownership import owners_refresh
from remediator.teams.models import OwnershipRule, Team, TeamMembership

from .dashboard.factories import make_action, make_findings, make_tag

USERS = ["anonymous", "no_role", "viewer", "approver", "staff_no_perms", "admin"]
"""The columns: nobody signed in; signed in, no group; the Viewer group; the Security
approvers group; is_staff with no permission; a superuser."""

# fmt: off
MATRIX: list[tuple[str, str, str]] = [
    # method  path                                           anon  none  view  appr  staff admin
    # --- API: reading needs the view permission (Viewer), acting the approver's
    ("GET",  "/api/v1/images/",                             "401   403   ok    ok    403   ok"),
    ("GET",  "/api/v1/images/{repository}/",                "401   403   ok    ok    403   ok"),
    ("POST", "/api/v1/images/{repository}/rebuild/",        "401   403   403   ok    403   ok"),
    ("POST", "/api/v1/images/{repository}/pull-request/",   "401   403   403   ok    403   ok"),
    ("GET",  "/api/v1/scans/",                              "401   403   ok    ok    403   ok"),
    ("GET",  "/api/v1/scans/{scan}/",                       "401   403   ok    ok    403   ok"),
    ("GET",  "/api/v1/findings/",                           "401   403   ok    ok    403   ok"),
    ("GET",  "/api/v1/findings/{finding}/",                 "401   403   ok    ok    403   ok"),
    ("POST", "/api/v1/findings/{finding}/accept/",          "401   403   403   ok    403   ok"),
    ("POST", "/api/v1/findings/{finding}/false-positive/",  "401   403   403   ok    403   ok"),
    ("POST", "/api/v1/findings/{finding}/reopen/",          "401   403   403   ok    403   ok"),
    # vendors' VEX statements of a finding, and the imported documents: readers
    ("GET",  "/api/v1/findings/{finding}/vex-statements/",  "401   403   ok    ok    403   ok"),
    ("GET",  "/api/v1/vex/imports/",                        "401   403   ok    ok    403   ok"),
    ("POST", "/api/v1/findings/{finding}/investigate/",     "401   403   403   ok    403   ok"),
    ("POST", "/api/v1/findings/{finding}/stop-investigating/", "401   403   403   ok    403   ok"),
    # VEX out (docs/vex.md): an image's documents for the scanners, the Viewer role
    ("GET",  "/api/v1/images/{repository}/vex/",            "401   403   ok    ok    403   ok"),
    ("GET",  "/api/v1/images/{repository}/trivyignore/",    "401   403   ok    ok    403   ok"),
    ("GET",  "/api/v1/images/{repository}/grype-ignore/",   "401   403   ok    ok    403   ok"),
    # the VEX repository: the Viewer role (or VEX_REPOSITORY_TOKEN, unset here)
    ("GET",  "/.well-known/vex-repository.json",            "401   403   ok    ok    403   ok"),
    ("GET",  "/api/v1/vex-repository/0.1/vex-repository.tar.gz",
                                                            "401   403   ok    ok    403   ok"),
    ("GET",  "/api/v1/vex-repository/0.1/index.json",       "401   403   ok    ok    403   ok"),
    ("GET",  "/api/v1/vex-repository/0.1/pkg/oci/r.test/a/vex.json",
                                                            "401   403   ok    ok    403   ok"),
    ("GET",  "/api/v1/vulnerabilities/",                    "401   403   ok    ok    403   ok"),
    ("GET",  "/api/v1/vulnerabilities/{vulnerability}/",    "401   403   ok    ok    403   ok"),
    # deliveries: status, error and scans for every reader (Viewer and approver alike)
    ("GET",  "/api/v1/deliveries/",                         "401   403   ok    ok    403   ok"),
    # the view permission; the raw body and headers only for staff (left out for the others:
    # test_a_delivery_s_raw_body_and_headers_reach_staff_only)
    ("GET",  "/api/v1/deliveries/{delivery}/",              "401   403   ok    ok    403   ok"),
    # reprocess: findings.change_delivery (given to no group; admins)
    ("POST", "/api/v1/deliveries/{delivery}/reprocess/",    "401   403   403   403   403   ok"),
    # a policy's backtest: the Policies page's permission (view_policy)
    ("GET",  "/api/v1/policies/{policy}/backtest/",         "401   403   ok    ok    403   ok"),
    # admission policies and what one would deny: the Policies page's permission
    ("GET",  "/api/v1/admission-policies/",                 "401   403   ok    ok    403   ok"),
    ("GET",  "/api/v1/admission-policies/{adm}/would-deny/", "401   403   ok    ok    403   ok"),
    # as the page's: a 400 for this body; a Viewer's real operation is a 403
    # (tests/dashboard/test_bulk_decisions.py: test_bulk_api_is_403_for_a_viewer)
    ("POST", "/api/v1/findings/bulk/",                      "401   403   ok    ok    403   ok"),
    # remediation figures: the findings' permission, as the Reports page
    ("GET",  "/api/v1/reports/remediation/",                "401   403   ok    ok    403   ok"),
    ("GET",  "/api/v1/actions/",                            "401   403   ok    ok    403   ok"),
    ("GET",  "/api/v1/actions/{action}/",                   "401   403   ok    ok    403   ok"),
    ("POST", "/api/v1/actions/{action}/approve/",           "401   403   403   ok    403   ok"),
    ("POST", "/api/v1/actions/{action}/reject/",            "401   403   403   ok    403   ok"),
    # cancel: the requester or an approver (the service decides who requested it)
    ("POST", "/api/v1/actions/{action}/cancel/",            "401   403   403   ok    403   ok"),
    ("POST", "/api/v1/actions/{action}/retry/",             "401   403   403   ok    403   ok"),
    ("GET",  "/api/v1/actions/{action}/dockerfile-patch/",  "401   403   ok    ok    403   ok"),
    ("POST", "/api/v1/actions/{action}/dockerfile-patch/",  "401   403   ok    ok    403   ok"),
    # webhooks: the source's secret, never a user (no credentials here -> 401 for all)
    ("POST", "/api/v1/webhooks/trivy/",                     "401   401   401   401   401   401"),
    ("POST", "/api/v1/webhooks/trivy/wrong/",               "401   401   401   401   401   401"),
    ("POST", "/api/v1/webhooks/trivy",                      "401   401   401   401   401   401"),
    ("POST", "/api/v1/webhooks/trivy/wrong",                "401   401   401   401   401   401"),
    # admission webhook and inventory push: a bearer token (ADMISSION_TOKEN), never a user;
    # none is set here -> 403
    ("POST", "/api/v1/admission/validate",                  "403   403   403   403   403   403"),
    ("POST", "/api/v1/admission/validate/prod",             "403   403   403   403   403   403"),
    ("POST", "/api/v1/inventory/",                          "403   403   403   403   403   403"),
    # public: the API's description and the process check
    ("GET",  "/api/v1/schema/",                             "ok    ok    ok    ok    ok    ok"),
    ("GET",  "/api/v1/docs/",                               "ok    ok    ok    ok    ok    ok"),
    ("GET",  "/healthz",                                    "ok    ok    ok    ok    ok    ok"),
    ("GET",  "/readyz",                                     "ok    ok    ok    ok    ok    ok"),
    # metrics: a bearer token (METRICS_TOKEN), never a user; none is set here -> 403
    ("GET",  "/metrics",                                    "403   403   403   403   403   403"),
    # --- Dashboard pages
    ("GET",  "/login/",                                     "ok    ok    ok    ok    ok    ok"),
    ("POST", "/login/",                                     "ok    ok    ok    ok    ok    ok"),
    ("POST", "/logout/",                                    "ok    ok    ok    ok    ok    ok"),
    # break-glass password sign-in (docs/sso.md): a form, open to all like /login/
    ("GET",  "/login/local/",                               "ok    ok    ok    ok    ok    ok"),
    ("POST", "/login/local/",                               "ok    ok    ok    ok    ok    ok"),
    # single sign-on: open to all (404 here, where it is not configured)
    ("GET",  "/oidc/authenticate/",                         "ok    ok    ok    ok    ok    ok"),
    ("GET",  "/oidc/callback/",                             "ok    ok    ok    ok    ok    ok"),
    ("GET",  "/",                                           "login 403   ok    ok    403   ok"),
    ("GET",  "/images/",                                    "login 403   ok    ok    403   ok"),
    ("GET",  "/images/{repository}/",                       "login 403   ok    ok    403   ok"),
    ("GET",  "/findings/",                                  "login 403   ok    ok    403   ok"),
    ("GET",  "/findings/export.csv",                        "login 403   ok    ok    403   ok"),
    ("GET",  "/findings/{finding}/",                        "login 403   ok    ok    403   ok"),
    ("GET",  "/search/",                                    "login 403   ok    ok    403   ok"),
    ("GET",  "/deliveries/",                                "login 403   ok    ok    403   ok"),
    # the page shows the raw body to staff only; metadata and error to the Viewer role
    ("GET",  "/deliveries/{delivery}/",                     "login 403   ok    ok    403   ok"),
    # Reprocess: findings.change_delivery, as the API's (given to no group; admins)
    ("POST", "/deliveries/{delivery}/reprocess/",           "login 403   403   403   403   ok"),
    ("GET",  "/actions/",                                   "login 403   ok    ok    403   ok"),
    ("GET",  "/actions/{action}/",                          "login 403   ok    ok    403   ok"),
    ("GET",  "/approvals/",                                 "login 403   ok    ok    403   ok"),
    ("GET",  "/policies/",                                  "login 403   ok    ok    403   ok"),
    ("GET",  "/reports/",                                   "login 403   ok    ok    403   ok"),
    ("GET",  "/reports/aging.csv",                          "login 403   ok    ok    403   ok"),
    ("GET",  "/audit/",                                     "login 403   ok    ok    403   ok"),
    # the go-live checklist: staff and the security roles (secrets only "set"/"not set")
    ("GET",  "/setup/",                                     "login 403   ok    ok    ok    ok"),
    ("GET",  "/audit/export.csv",                           "login 403   ok    ok    403   ok"),
    # --- Dashboard POSTs (buttons)
    ("POST", "/tags/{tag}/rebuild/",                        "login 403   403   ok    403   ok"),
    ("POST", "/tags/{tag}/pull-request/",                   "login 403   403   ok    403   ok"),
    ("POST", "/findings/{finding}/accept/",                 "login 403   403   ok    403   ok"),
    # bulk decisions: the operation names the permission it needs, so this body (none)
    # is a 400 for whoever may read findings; a Viewer's real decision is refused
    # (tests/dashboard/test_bulk_decisions.py: test_a_viewer_may_not_decide_in_bulk)
    ("POST", "/findings/bulk/",                             "login 403   ok    ok    403   ok"),
    ("POST", "/findings/{finding}/false-positive/",         "login 403   403   ok    403   ok"),
    ("POST", "/findings/{finding}/reopen/",                 "login 403   403   ok    403   ok"),
    ("POST", "/findings/{finding}/investigate/",            "login 403   403   ok    403   ok"),
    ("POST", "/findings/{finding}/stop-investigating/",     "login 403   403   ok    403   ok"),
    ("POST", "/actions/{action}/approve/",                  "login 403   403   ok    403   ok"),
    ("POST", "/actions/{action}/reject/",                   "login 403   403   ok    403   ok"),
    ("POST", "/actions/{action}/cancel/",                   "login 403   403   ok    403   ok"),
    ("POST", "/actions/{action}/retry/",                    "login 403   403   ok    403   ok"),
    # a dry run only reads: the Viewer role may queue one
    ("POST", "/policies/dry-run/",                          "login 403   ok    ok    403   ok"),
]
# fmt: on

BODY = {
    "reason": "matrix check",
    "tag": "latest",
    "dockerfile": "FROM alpine:3.18\n",
    "until": "",
}
CELLS = [
    (method, path, user, outcome)
    for method, path, outcomes in MATRIX
    for user, outcome in zip(USERS, outcomes.split(), strict=True)
]
SAMPLE_IDS = dict.fromkeys(
    [
        "repository",
        "tag",
        "scan",
        "finding",
        "vulnerability",
        "delivery",
        "action",
        "policy",
        "adm",
    ],
    1,
)


def route_of(path: str) -> str:
    """The URLconf route a row's path resolves to."""
    return resolve(path.format(**SAMPLE_IDS)).route


def _routes(patterns: list, prefix: str = "") -> list[str]:
    found = []
    for entry in patterns:
        route = prefix + str(entry.pattern).removeprefix("^")
        if isinstance(entry, URLResolver):
            found += _routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            found.append(route)
    return found


def urlconf_routes() -> set[str]:
    return {r for r in _routes(get_resolver().url_patterns) if not r.startswith("admin/")}


def test_every_route_has_a_row_and_every_row_a_route():
    rows = {route_of(path) for _, path, _ in MATRIX}
    assert urlconf_routes() - rows == set(), "routes without a row in MATRIX"
    assert rows - urlconf_routes() == set(), "rows in MATRIX for routes that no longer exist"


def make_user(kind: str):
    """One user of the kind named by a column (None for anonymous)."""
    users = get_user_model().objects
    if kind == "anonymous":
        return None
    if kind == "admin":
        return users.create_superuser("admin", "admin@example.com", None)
    user = users.create_user(kind, is_staff=kind == "staff_no_perms")
    group = {"viewer": GROUP_VIEWER, "approver": GROUP_APPROVERS}.get(kind)
    if group:
        user.groups.add(ensure_groups()[group])
    return user


@pytest.fixture
def ids(db, monkeypatch) -> dict[str, object]:
    """One of everything a path names; the action awaits approval, requested by policy."""
    monkeypatch.setenv("WEBHOOK_SECRET", "matrix-secret")  # configured: no credentials -> 401
    tag = make_tag()
    findings = make_findings(tag, 2)
    action = make_action(tag, findings=findings)
    return {
        "repository": tag.repository_id,
        "tag": tag.pk,
        "scan": findings[0].first_scan_id,
        "finding": findings[0].pk,
        "vulnerability": findings[0].vulnerability_id,
        "delivery": findings[0].first_scan.delivery_id,
        "action": action.pk,
        "policy": Policy.objects.order_by("id").values_list("pk", flat=True).first(),
        "adm": AdmissionPolicy.objects.create(name="matrix-admission").pk,
    }


def client_as(kind: str) -> APIClient:
    client = APIClient()
    user = make_user(kind)
    if user is not None:
        client.force_login(user)
    return client


def outcome_of(response, path: str) -> str:
    if response.status_code in (401, 403):
        return str(response.status_code)
    if response.status_code == 302 and response["Location"].startswith("/login/?next="):
        return "login"
    return "ok"


@pytest.mark.parametrize(
    ("method", "path", "user", "expected"),
    CELLS,
    ids=[f"{m} {p} {u}" for m, p, u, _ in CELLS],
)
def test_rbac_cell(ids, method, path, user, expected):
    client = client_as(user)
    url = path.format(**ids)
    if method == "GET":
        response = client.get(url)
    elif url.startswith("/api/"):
        response = client.post(url, BODY, format="json")
    else:
        response = client.post(url, BODY)
    assert outcome_of(response, url) == expected, f"{method} {url} as {user}"


API_METHODS = {(method, path) for method, path, _ in MATRIX if path.startswith("/api/")}


@pytest.mark.parametrize("user", ["anonymous", "no_role", "staff_no_perms"])
def test_methods_without_a_row_never_answer_2xx_to_the_unprivileged(ids, user):
    """GET on a POST-only API route and POST on a GET-only one: refused or 405."""
    client = client_as(user)
    for method, path, _ in MATRIX:
        if not path.startswith("/api/v1/") or path.startswith(("/api/v1/schema", "/api/v1/docs")):
            continue
        other = "POST" if method == "GET" else "GET"
        if (other, path) in API_METHODS:
            continue
        url = path.format(**ids)
        response = client.generic(other, url)
        assert response.status_code in (401, 403, 405), f"{other} {url} as {user}"


@pytest.mark.parametrize("user", ["viewer", "approver", "admin"])
def test_a_delivery_s_raw_body_and_headers_reach_staff_only(ids, user):
    """Every reader gets a delivery's status, error and scans, on the page and the API;
    the raw body and the headers reach staff only: left out of the API's answer, and
    not on the page."""
    client = client_as(user)
    delivery = ids["delivery"]

    detail = client.get(f"/api/v1/deliveries/{delivery}/").json()
    page = client.get(f"/deliveries/{delivery}/").content.decode()

    assert detail["status"] == "processed" and "error" in detail
    assert [scan["id"] for scan in detail["scans"]] == [ids["scan"]]
    assert f"?scan={ids['scan']}&amp;status=" in page
    staff_fields = {"headers", "body_preview", "body_truncated"}
    if user == "admin":
        assert staff_fields <= set(detail) and '<pre class="raw"' in page
    else:
        assert not staff_fields & set(detail) and '<pre class="raw"' not in page


# --- Team-scoped access (TEAM_SCOPED_ACCESS on): a Viewer and an Approver of team A,
# each against the objects of team A ("own") and of team B ("other"). A cell: ok (the
# permission and the scope let it through: 200, 409, 422...), 403 (no permission: asked
# before the scope), 404 (another team's object is not there for them).
TEAM_USERS = ["viewer_a", "approver_a"]
# fmt: off
TEAM_MATRIX: list[tuple[str, str, str]] = [
    # method  path                                        viewer_a own, other; approver_a own, other
    ("GET",  "/api/v1/images/{repository}/",               "ok   404   ok   404"),
    ("GET",  "/api/v1/findings/{finding}/",                "ok   404   ok   404"),
    ("GET",  "/api/v1/actions/{action}/",                  "ok   404   ok   404"),
    ("GET",  "/api/v1/actions/{action}/dockerfile-patch/", "ok   404   ok   404"),
    ("POST", "/api/v1/images/{repository}/rebuild/",       "403  403   ok   404"),
    ("POST", "/api/v1/findings/{finding}/accept/",         "403  403   ok   404"),
    ("POST", "/api/v1/findings/{finding}/false-positive/", "403  403   ok   404"),
    ("POST", "/api/v1/findings/{finding}/investigate/",    "403  403   ok   404"),
    ("GET",  "/api/v1/images/{repository}/trivyignore/",   "ok   404   ok   404"),
    ("GET",  "/api/v1/images/{repository}/grype-ignore/",  "ok   404   ok   404"),
    ("POST", "/api/v1/actions/{action}/approve/",          "403  403   ok   404"),
    ("POST", "/api/v1/actions/{action}/reject/",           "403  403   ok   404"),
    ("GET",  "/images/{repository}/",                      "ok   404   ok   404"),
    ("GET",  "/findings/{finding}/",                       "ok   404   ok   404"),
    ("GET",  "/actions/{action}/",                         "ok   404   ok   404"),
    ("POST", "/findings/{finding}/accept/",                "403  403   ok   404"),
    ("POST", "/findings/{finding}/false-positive/",        "403  403   ok   404"),
    ("POST", "/findings/{finding}/investigate/",           "403  403   ok   404"),
    # the page looks the action up first: another team's is not there, whoever asks
    ("POST", "/actions/{action}/approve/",                 "403  404   ok   404"),
    ("POST", "/actions/{action}/reject/",                  "403  404   ok   404"),
    ("POST", "/tags/{tag}/rebuild/",                       "403  403   ok   404"),
]
# fmt: on
TEAM_CELLS = [
    (method, path, user, side, outcome)
    for method, path, outcomes in TEAM_MATRIX
    for (user, side), outcome in zip(
        [(u, s) for u in TEAM_USERS for s in ("own", "other")], outcomes.split(), strict=True
    )
]


def _team_objects(team: Team, name: str) -> dict[str, object]:
    tag = make_tag(name)
    OwnershipRule.objects.create(team=team, image_glob=f"registry.test/{name}")
    findings = make_findings(tag, 2)
    action = make_action(tag, findings=findings)
    return {
        "repository": tag.repository_id,
        "tag": tag.pk,
        "finding": findings[0].pk,
        "findings": frozenset(f.pk for f in findings),
        "action": action.pk,
    }


@pytest.fixture
def teams(db, settings) -> dict[str, dict[str, object]]:
    """Team A and team B, each owning one image with findings and an action awaiting
    approval (requested by policy); scoping on; the users are team A's."""
    settings.TEAM_SCOPED_ACCESS = True
    a, b = Team.objects.create(slug="a", name="A"), Team.objects.create(slug="b", name="B")
    objects = {"own": _team_objects(a, "a/app"), "other": _team_objects(b, "b/app")}
    owners_refresh()
    for kind in TEAM_USERS:
        user = make_user(kind.removesuffix("_a"))
        TeamMembership.objects.create(team=a, user=user)
    return objects


def _as(username: str) -> APIClient:
    client = APIClient()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def _team_outcome(response) -> str:
    return str(response.status_code) if response.status_code in (401, 403, 404) else "ok"


@pytest.mark.parametrize(
    ("method", "path", "user", "side", "expected"),
    TEAM_CELLS,
    ids=[f"{m} {p} {u} {s}" for m, p, u, s, _ in TEAM_CELLS],
)
def test_team_scoped_cell(teams, method, path, user, side, expected):
    client = _as(user.removesuffix("_a"))
    url = path.format(**teams[side])
    body = {"reason": "team check", "tag": "latest"}  # valid: a 400 would hide the scope
    if method == "GET":
        response = client.get(url)
    elif url.startswith("/api/"):
        response = client.post(url, body, format="json")
    else:
        response = client.post(url, body)
    assert _team_outcome(response) == expected, f"{method} {url} as {user}"


LISTS = [
    ("/api/v1/findings/", "findings"),
    ("/api/v1/images/", "repository"),
    ("/api/v1/actions/", "action"),
    ("/findings/", "findings"),
    ("/images/", "repository"),
    ("/actions/", "action"),
    ("/approvals/", "action"),
]


def _listed(client, path: str) -> set[int]:
    response = client.get(path + ("?team=" if not path.startswith("/api/") else ""))
    assert response.status_code == 200, path
    if path.startswith("/api/"):
        return {row["id"] for row in response.json()["results"]}
    page = response.context["page"]
    rows = (
        [row["action"] for row in response.context["rows"]]
        if "rows" in response.context
        else page.rows
    )
    return {row.pk for row in rows}


@pytest.mark.parametrize(("path", "kind"), LISTS)
def test_team_members_list_only_their_teams_rows_staff_see_all(teams, path, kind):
    own, other = _ids(teams["own"][kind]), _ids(teams["other"][kind])
    for username in ("viewer", "approver"):
        assert _listed(_as(username), path) == own, f"{path} as {username}"
    staff = get_user_model().objects.create_user("staffer", is_staff=True)
    staff.groups.add(ensure_groups()[GROUP_VIEWER])
    assert _listed(_as("staffer"), path) >= own | other


def _ids(value) -> set[int]:
    return set(value) if isinstance(value, frozenset) else {value}


@pytest.mark.parametrize(("path", "kind"), LISTS)
def test_a_user_in_no_team_sees_nothing_owned_nor_unowned(teams, path, kind):
    make_findings(make_tag("nobody/app"), 1)  # unowned: hidden from team members too
    loner = get_user_model().objects.create_user("loner")
    loner.groups.add(ensure_groups()[GROUP_APPROVERS])
    assert _listed(_as("loner"), path) == set()
    assert _listed(_as("viewer"), path) == _ids(teams["own"][kind])


def test_search_exports_and_bulk_decisions_keep_to_the_team(teams):
    viewer, approver = _as("viewer"), _as("approver")
    own, other = teams["own"], teams["other"]

    found = viewer.get("/search/?q=app").context
    assert {hit.url_args[0] for hit in found["groups"]["images"]} == {own["repository"]}
    assert [a.pk for a in found["actions"]] == [own["action"]]
    csv = viewer.get("/findings/export.csv?team=").getvalue().decode()
    assert "registry.test,a/app" in csv and "b/app" not in csv
    shared = Finding.objects.get(pk=own["finding"]).vulnerability_id
    Finding.objects.filter(pk=other["finding"]).update(vulnerability_id=shared)
    affected = viewer.get(f"/api/v1/vulnerabilities/{shared}/").json()["affected_images"]
    assert [row["repository"] for row in affected] == [own["repository"]]
    assert str(viewer.get("/findings/").context["nav_awaiting"]) == "1"  # A's action only
    body = {"operation": "false_positive", "ids": [own["finding"], other["finding"]], "reason": "x"}
    results = approver.post("/api/v1/findings/bulk/", body, format="json").json()["results"]
    assert [(r["finding_id"], r["ok"], r["code"]) for r in results] == [
        (own["finding"], True, ""),
        (other["finding"], False, "not_found"),
    ]


def test_without_team_scoped_access_a_team_member_sees_every_team(teams, settings):
    settings.TEAM_SCOPED_ACCESS = False
    viewer = _as("viewer")
    assert viewer.get(f"/findings/{teams['other']['finding']}/").status_code == 200
    assert _listed(viewer, "/api/v1/findings/") >= {
        teams["own"]["finding"],
        teams["other"]["finding"],
    }
