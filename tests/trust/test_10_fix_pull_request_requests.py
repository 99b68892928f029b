"""Requests for a fix pull request and how its link is shown: no fix PR without findings to
fix (API and the page's button), a link from the host that is not http(s) on its own site
is never stored or shown, and every HTML response carries a Content-Security-Policy."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from django.apps import apps as global_apps
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from findings.models import Finding
from remediator.engine.models import AuditEvent, FixPullRequest, RemediationAction
from remediator.engine.services import action_dispatch
from tests.engine.factories import ingest, tag_of, vuln

from ._fixpr_support import (  # noqa: F401 (fixtures)
    approved,
    fixpr_settings_fixture,
    host,
    people_fixture,
)

pytestmark = pytest.mark.django_db
MIGRATION = importlib.import_module("remediator.engine.migrations.0008_blank_unsafe_links")
TEMPLATES = Path(django_settings.BASE_DIR) / "templates"


def request_pr(people, tag, who="alice"):
    api = APIClient()
    api.force_authenticate(people[who])
    return api.post(f"/api/v1/images/{tag.repository_id}/pull-request/", {"tag": tag.name})


def nothing_to_fix(kind: str):
    """A tag with no finding a fix PR could change, made ``kind`` ways."""
    if kind == "no findings":
        return tag_of(ingest())
    if kind == "no fixed version":
        return tag_of(ingest(vuln(fixed="")))
    tag = tag_of(ingest(vuln()))
    status = {"all fixed": "fixed", "risk accepted": "accepted"}[kind]
    Finding.objects.filter(tag=tag).update(status=status)
    return tag


@pytest.mark.parametrize("kind", ["no findings", "no fixed version", "all fixed", "risk accepted"])
def test_a_fix_pull_request_with_nothing_to_fix_is_refused_and_nothing_created(
    kind, people, httpserver, monkeypatch
):
    host("github", httpserver, monkeypatch)
    tag = nothing_to_fix(kind)
    before = (RemediationAction.objects.count(), AuditEvent.objects.count())

    response = request_pr(people, tag)

    assert response.status_code == 409
    assert response.json() == {
        "error": "no_findings",
        "detail": "registry.example.com/acme/api:1.4 has no unresolved finding with a fixed "
        "version: a fix pull request would have nothing to change",
    }
    assert (RemediationAction.objects.count(), AuditEvent.objects.count()) == before


def test_the_page_button_with_nothing_to_fix_says_why_and_creates_nothing(
    people, httpserver, monkeypatch, client
):
    host("github", httpserver, monkeypatch)
    tag = nothing_to_fix("no fixed version")
    client.force_login(people["alice"])

    response = client.post(f"/tags/{tag.pk}/pull-request/", follow=True)

    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert shown == [
        "Not done: registry.example.com/acme/api:1.4 has no unresolved finding with a fixed "
        "version: a fix pull request would have nothing to change"
    ]
    assert not RemediationAction.objects.filter(kind="pull_request").exists()


def test_findings_a_rebuild_already_covers_can_still_get_a_fix_pull_request(
    people, httpserver, monkeypatch
):
    host("github", httpserver, monkeypatch)
    tag = tag_of(ingest(vuln()))
    Finding.objects.filter(tag=tag).update(status="in_remediation")  # a rebuild under way

    response = request_pr(people, tag)

    assert response.status_code == 201
    assert [f["package"] for f in response.json()["findings"]] == ["openssl"]


def test_a_javascript_link_from_the_host_is_never_stored_nor_linked(
    people, httpserver, monkeypatch, client
):
    setup = host("github", httpserver, monkeypatch)
    setup.fake.fault("POST", "pulls", mode="patch", body={"html_url": "javascript:alert(1)"})
    action = action_dispatch(action_id=approved(people).pk)
    client.force_login(people["alice"])

    page = client.get(f"/actions/{action.pk}/").content.decode()
    shown = APIClient()
    shown.force_authenticate(people["alice"])
    api = shown.get(f"/api/v1/actions/{action.pk}/").json()["pull_request"]

    assert FixPullRequest.objects.get(action=action).url == ""
    assert "javascript:" not in page
    assert re.search(r"Fix pull request: #1 on <code>remediator/fix-acme-api-1\.4-", page)
    assert (api["number"], api["url"]) == (1, "")


def test_links_stored_before_the_check_are_blanked_by_the_migration(
    people, httpserver, monkeypatch
):
    host("github", httpserver, monkeypatch)
    action = action_dispatch(action_id=approved(people).pk)
    good = FixPullRequest.objects.get(action=action).url
    assert good.startswith("http://localhost")
    RemediationAction.objects.filter(pk=action.pk).update(external_url="JavaScript:alert(1)")

    MIGRATION.blank_unsafe_links(global_apps, None)

    assert FixPullRequest.objects.get(action=action).url == good
    FixPullRequest.objects.filter(action=action).update(url=" data:text/html,x")
    MIGRATION.blank_unsafe_links(global_apps, None)
    assert FixPullRequest.objects.get(action=action).url == ""
    assert RemediationAction.objects.get(pk=action.pk).external_url == ""


@pytest.mark.parametrize(
    "path",
    ["/login/", "/", "/actions/", "/findings/", "/api/v1/docs/", "/admin/login/", "/no-such/"],
)
def test_every_html_response_carries_the_content_security_policy(path, people, client):
    client.force_login(people["alice"])

    response = client.get(path)

    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and policy["form-action"] == "'self'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_no_template_has_inline_script_style_or_event_handler():
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE
    )
    found = {
        str(path.relative_to(TEMPLATES)): inline.findall(path.read_text())
        for path in TEMPLATES.rglob("*.html")
    }
    assert {name: hits for name, hits in found.items() if hits} == {}
