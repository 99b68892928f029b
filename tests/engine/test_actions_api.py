"""Read side of the actions API, the schema, and the policy dry run."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from remediator.engine.models import Policy
from remediator.engine.services import action_approve, policy_dry_run, scan_evaluate

from .factories import ingest, vuln

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def two_actions(people):
    Policy.objects.update(owner=people["alice"])
    [rebuild] = scan_evaluate(scan_id=ingest(vuln(), tag="1.4").pk)
    [notify] = scan_evaluate(
        scan_id=ingest(
            vuln("CVE-2025-0002", "glibc", fixed=""), image="docker.io/library/alpine"
        ).pk
    )
    return rebuild, notify


def test_viewer_lists_actions_newest_first_with_filters(two_actions, people):
    rebuild, notify = two_actions
    client = api(people["vera"])

    listed = client.get("/api/v1/actions/").json()
    assert [a["id"] for a in listed["results"]] == [notify.pk, rebuild.pk]
    assert listed["results"][1]["image"].startswith("registry.example.com/acme/api:1.4@sha256:")
    assert listed["results"][1]["findings_count"] == 1

    by_state = client.get("/api/v1/actions/", {"state": "awaiting_approval"}).json()
    assert [a["id"] for a in by_state["results"]] == [rebuild.pk]
    by_kind = client.get("/api/v1/actions/", {"kind": "notify"}).json()
    assert [a["id"] for a in by_kind["results"]] == [notify.pk]
    for image in ("alpine", "docker.io/library/alpine", str(notify.repository_id)):
        by_image = client.get("/api/v1/actions/", {"image": image}).json()
        assert [a["id"] for a in by_image["results"]] == [notify.pk], image


def test_list_is_cursor_paginated(two_actions, people):
    page = api(people["vera"]).get("/api/v1/actions/", {"page_size": 1}).json()
    assert len(page["results"]) == 1 and "cursor=" in page["next"]
    rest = api(people["vera"]).get(page["next"]).json()
    assert len(rest["results"]) == 1 and rest["next"] is None


def test_detail_shows_findings_transitions_and_approvals(two_actions, people, gitlab):
    rebuild, _ = two_actions
    action_approve(action_id=rebuild.pk, user=people["bob"], reason="ok")

    body = api(people["vera"]).get(f"/api/v1/actions/{rebuild.pk}/").json()

    assert body["state"] == "approved" and body["requested_by"] == "alice"
    assert body["policy"] == "rebuild-fixable-critical-high"
    assert [f["vulnerability_id"] for f in body["findings"]] == ["CVE-2024-6119"]
    assert [(t["kind"], t["from_state"], t["to_state"]) for t in body["transitions"]] == [
        ("transition", "", "proposed"),
        ("transition", "proposed", "awaiting_approval"),
        ("approval", "", ""),
        ("transition", "awaiting_approval", "approved"),
    ]
    assert body["transitions"][-1]["actor"] == "bob"
    assert body["url"] == f"https://remediator.example.com/api/v1/actions/{rebuild.pk}/"
    assert "provider_calls" in body and "external_url" in body


def test_anonymous_and_rightless_users_see_nothing(two_actions, people):
    assert api().get("/api/v1/actions/").status_code == 401
    assert api(people["nora"]).get("/api/v1/actions/").status_code == 403


def test_unknown_action_is_404_json(people):
    response = api(people["bob"]).post("/api/v1/actions/999999/approve/")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_schema_documents_the_actions_api(people):
    schema = api(people["vera"]).get("/api/v1/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path in [
        "/api/v1/actions/",
        "/api/v1/actions/{id}/",
        "/api/v1/actions/{id}/approve/",
        "/api/v1/actions/{id}/reject/",
        "/api/v1/actions/{id}/cancel/",
        "/api/v1/actions/{id}/retry/",
        "/api/v1/images/{id}/rebuild/",
    ]:
        assert path in paths, path
    assert "409" in paths["/api/v1/actions/{id}/approve/"]["post"]["responses"]


def test_dry_run_counts_findings_and_images_per_rule_first_match_wins(defaults):
    ingest(vuln(), vuln("CVE-2", "zlib", severity="high"), tag="1.4")
    ingest(vuln(), tag="1.5")
    ingest(vuln("CVE-3", "glibc", fixed=""), vuln("CVE-4", "musl", severity="low"), tag="1.6")

    rebuild, notify, unmatched = policy_dry_run()

    assert (rebuild.rule_name, rebuild.findings, rebuild.images) == (
        "rebuild-fixable-critical-high",
        3,
        2,
    )
    assert (notify.findings, notify.images) == (1, 1)
    assert (unmatched.rule_id, unmatched.findings) == (None, 1)
    assert unmatched.samples[0]["vulnerability_id"] == "CVE-4"
    assert {s["image"] for s in rebuild.samples} == {
        "registry.example.com/acme/api:1.4",
        "registry.example.com/acme/api:1.5",
    }


def test_dry_run_of_chosen_policies_only(defaults):
    ingest(vuln())
    notify_only = [p.pk for p in defaults if p.action == "notify"]
    results = policy_dry_run(policy_ids=notify_only)
    assert [(r.rule_name, r.findings) for r in results] == [
        ("notify-unfixable-critical", 0),
        ("(no rule matched)", 1),
    ]
