"""The search box: hits grouped by kind with links, exact identifiers first, bounded
reads; the counts lists show; the overview's "Do this first" panel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from findings.models import Finding, Image, ThreatIntel, Vulnerability
from remediator.core.counting import ListCount, list_count
from remediator.engine.models import ActionState, RemediationAction

from .factories import make_action, make_findings, make_tag

pytestmark = pytest.mark.django_db


def _search(client, text: str):
    return client.get("/search/", {"q": text})


def test_search_groups_vulnerabilities_packages_images_and_actions(client_for, approver):
    tag = make_tag("library/nginx", registry="docker.io", tag="1.25-alpine")
    findings = make_findings(tag, 2, package="libssl3")
    action = make_action(tag)
    client = client_for(approver)
    html = _search(client, "NGINX").content.decode()
    assert f'href="/images/{tag.repository_id}/"' in html
    assert "docker.io/<wbr>" in html.replace("</span>", "")  # registry shown, breaks after /
    assert f'href="/actions/{action.pk}/"' in html
    html = _search(client, "ssl").content.decode()
    assert "?package=libssl3" in html
    cve = findings[0].vulnerability_id
    html = _search(client, cve.lower()).content.decode()
    assert f"<code>{cve}</code>" in html and 'class="exact"' in html


def test_an_exact_vulnerability_id_ranks_before_ids_containing_it(client_for, viewer):
    tag = make_tag()
    make_findings(tag, 1)
    Vulnerability.objects.create(id="CVE-2024-1", title="short one")
    Vulnerability.objects.create(id="CVE-2024-10", title="longer one")
    response = _search(client_for(viewer), "cve-2024-1")
    hits = response.context["groups"]["vulnerabilities"]
    assert hits[0].label == "CVE-2024-1" and hits[0].exact
    assert all(not h.exact for h in hits[1:])


def test_a_digest_or_its_start_finds_the_image(client_for, viewer):
    tag = make_tag("team/app")
    digest = "sha256:" + "b3" * 32
    Image.objects.create(repository=tag.repository, digest=digest)
    client = client_for(viewer)
    for text in (digest, digest[7:], digest[:19], digest[7:19].upper()):
        hits = _search(client, text).context["groups"]["images"]
        assert [h.label for h in hits] == [f"{tag.repository}@{digest}"], text
    assert _search(client, digest).context["groups"]["images"][0].exact


def test_image_with_tag_narrows_to_repositories_with_that_tag(client_for, viewer):
    make_tag("team/web", tag="1.25")
    make_tag("team/webhook", tag="2.0")
    hits = _search(client_for(viewer), "team/web:1.2").context["groups"]["images"]
    assert [h.label for h in hits] == ["registry.test/team/web:1.2"]


@pytest.mark.parametrize("text", ["", "a", "%", "_", "'; drop table x; --", "\x00", "x" * 201])
def test_odd_text_never_fails(client_for, viewer, text):
    make_findings(make_tag(), 1)
    response = _search(client_for(viewer), text)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert response.context["form"].errors


def test_a_viewer_without_action_rights_sees_no_actions_and_nobody_gets_in(client_for, nobody):
    assert client_for(nobody).get("/search/?q=x").status_code == 403


def test_search_reads_are_bounded(client_for, viewer):
    tag = make_tag()
    make_findings(tag, 30, package="openssl")
    with CaptureQueriesContext(connection) as queries:
        _search(client_for(viewer), "openssl")
    findings_reads = [q["sql"] for q in queries.captured_queries if "findings_finding" in q["sql"]]
    assert findings_reads
    assert all("LIMIT" in sql or "GROUP BY" in sql for sql in findings_reads)


def test_list_count_is_exact_when_small_and_bounded_when_not():
    tag = make_tag()
    make_findings(tag, 12)
    assert list_count(Finding.objects.all()) == ListCount(12)
    assert str(list_count(Finding.objects.all())) == "12"
    bounded = list_count(Finding.objects.all(), exact_up_to=10)
    assert not bounded.exact
    if connection.vendor == "postgresql":
        assert bounded.estimated and str(bounded).startswith("about ")
    else:
        assert str(bounded) == "more than 10"


def test_lists_and_tabs_show_their_counts(client_for, approver):
    tag = make_tag()
    make_findings(tag, 7)
    make_action(tag, state=ActionState.FAILED)
    client = client_for(approver)
    assert "7 findings" in client.get("/findings/").content.decode()
    html = client.get("/actions/").content.decode()
    assert "1 action" in html
    assert 'Failed<span class="n" data-tab-count>1</span>' in html


def test_do_this_first_counts_and_links(client_for, approver):
    tag = make_tag()
    findings = make_findings(tag, 3)
    ThreatIntel.objects.create(vulnerability_id=findings[0].vulnerability_id, kev=True)
    make_action(make_tag(), state=ActionState.FAILED)
    old = make_action(make_tag())
    RemediationAction.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=3)
    )
    response = client_for(approver).get("/")
    first = {t.key: t for t in response.context["first"]}
    assert first["kev"].count.value == 1 and "kev=true" in first["kev"].url
    assert first["failed"].count.value == 1 and first["failed"].url.endswith("?tab=failed")
    assert first["overdue"].count.value == 1
    assert first["running_critical"].count.value == 0
    assert 'data-first="kev"' in response.content.decode()
