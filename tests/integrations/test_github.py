from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from werkzeug import Response

from remediator.core.errors import ProviderError
from remediator.integrations.github.client import GitHubActions

from .conftest import CORRELATION_ID, DIGEST, TOKEN, audit_dump, provider_calls

pytestmark = pytest.mark.django_db

DISPATCH = "/repos/acme/api/actions/workflows/rebuild.yml/dispatches"


@pytest.fixture
def github(make_target):
    return GitHubActions(make_target("github", workflow="rebuild.yml"))


def run(run_id=99, status="queued", conclusion=None, title="Rebuild"):
    return {
        "id": run_id,
        "name": "rebuild",
        "display_title": title,
        "event": "workflow_dispatch",
        "status": status,
        "conclusion": conclusion,
        "html_url": f"https://github.com/acme/api/actions/runs/{run_id}",
        "url": f"https://api.github.com/repos/acme/api/actions/runs/{run_id}",
    }


def test_workflow_dispatch_sends_inputs_and_follows_the_returned_run(
    httpserver, github, trigger_request
):
    httpserver.expect_oneshot_request(DISPATCH, method="POST").respond_with_json(
        {
            "workflow_run_id": 99,
            "run_url": "https://api.github.com/repos/acme/api/actions/runs/99",
            "html_url": "https://github.com/acme/api/actions/runs/99",
        }
    )

    status = github.trigger(trigger_request)

    request, _ = httpserver.log[0]
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    body = request.get_json()
    assert body["ref"] == "main"
    assert body["return_run_details"] is True
    assert body["inputs"] == {
        "correlation_id": CORRELATION_ID,
        "image": f"registry.example.com/acme/api:1.4@{DIGEST}",
        "digest": DIGEST,
        "cves": "CVE-2024-6119,GHSA-h5c8-rqwp-cp95",
        "packages": "openssl=3.3.2-r0,zlib=1.3.1-r1",
        "details_url": "http://127.0.0.1:8000/api/v1/actions/42/",
        "truncated": "false",
    }
    assert len(body["inputs"]) <= 10
    assert status.state == "queued"
    assert status.external_id == "99"
    assert status.url == "https://github.com/acme/api/actions/runs/99"
    assert status.provider_state["run_id"] == 99


@pytest.mark.parametrize(
    ("run_status", "conclusion", "expected"),
    [
        ("queued", None, "queued"),
        ("requested", None, "queued"),
        ("waiting", None, "queued"),
        ("pending", None, "queued"),
        ("in_progress", None, "running"),
        ("completed", "success", "succeeded"),
        ("completed", "failure", "failed"),
        ("completed", "timed_out", "failed"),
        ("completed", "startup_failure", "failed"),
        ("completed", "action_required", "failed"),
        ("completed", "cancelled", "cancelled"),
        ("completed", "skipped", "cancelled"),
    ],
)
def test_status_maps_each_workflow_run_state(httpserver, github, run_status, conclusion, expected):
    httpserver.expect_oneshot_request(
        "/repos/acme/api/actions/runs/99", method="GET"
    ).respond_with_json(run(status=run_status, conclusion=conclusion))

    status = github.status({"mode": "workflow_dispatch", "run_id": 99})

    assert status.state == expected
    assert status.external_id == "99"
    assert status.url.endswith("/actions/runs/99")


def test_dispatch_answered_204_finds_the_run_carrying_the_correlation_id(
    httpserver, github, trigger_request
):
    httpserver.expect_oneshot_request(DISPATCH, method="POST").respond_with_data("", status=204)
    triggered = github.trigger(trigger_request)
    assert triggered.state == "queued"
    assert "run_id" not in triggered.provider_state

    httpserver.expect_oneshot_request(
        "/repos/acme/api/actions/workflows/rebuild.yml/runs", method="GET"
    ).respond_with_json(
        {
            "total_count": 2,
            "workflow_runs": [
                run(run_id=7, status="in_progress", title="Rebuild someone else"),
                run(run_id=8, status="in_progress", title=f"Rebuild {CORRELATION_ID}"),
            ],
        }
    )
    status = github.status(triggered.provider_state)

    listing, _ = httpserver.log[-1]
    assert listing.args["event"] == "workflow_dispatch"
    assert listing.args["branch"] == "main"
    assert listing.args["created"].startswith(">=")
    assert status.state == "running"
    assert status.external_id == "8"
    assert status.provider_state["run_id"] == 8


def test_run_not_listed_yet_stays_queued(httpserver, github, trigger_request):
    httpserver.expect_oneshot_request(DISPATCH, method="POST").respond_with_data("", status=204)
    triggered = github.trigger(trigger_request)
    httpserver.expect_oneshot_request(
        "/repos/acme/api/actions/workflows/rebuild.yml/runs"
    ).respond_with_json({"total_count": 0, "workflow_runs": []})

    assert github.status(triggered.provider_state).state == "queued"


def test_server_rejecting_return_run_details_gets_the_dispatch_without_it(
    httpserver, github, trigger_request
):
    httpserver.expect_oneshot_request(DISPATCH, method="POST").respond_with_json(
        {"message": 'Invalid request.\n\n"return_run_details" is not a permitted key.'},
        status=422,
    )
    httpserver.expect_oneshot_request(DISPATCH, method="POST").respond_with_data("", status=204)

    status = github.trigger(trigger_request)

    second, _ = httpserver.log[1]
    assert "return_run_details" not in second.get_json()
    assert second.get_json()["inputs"]["correlation_id"] == CORRELATION_ID
    assert status.state == "queued"


def test_repository_dispatch_sends_event_type_and_client_payload(
    httpserver, make_target, trigger_request
):
    github = GitHubActions(make_target("github", options={"dispatch": "repository_dispatch"}))
    httpserver.expect_oneshot_request(
        "/repos/acme/api/dispatches", method="POST"
    ).respond_with_data("", status=204)

    status = github.trigger(trigger_request)

    body = httpserver.log[0][0].get_json()
    assert body["event_type"] == "remediator-rebuild"
    assert body["client_payload"]["correlation_id"] == CORRELATION_ID
    assert body["client_payload"]["digest"] == DIGEST
    assert len(body["client_payload"]) <= 10
    assert status.state == "running"


def test_long_lists_are_cut_at_an_item_and_flagged_truncated(httpserver, github, trigger_request):
    from dataclasses import replace

    many = replace(
        trigger_request,
        vulnerability_ids=tuple(f"CVE-2024-{n:05d}" for n in range(500)),
        packages=tuple((f"package-{n}", f"1.{n}.0") for n in range(500)),
    )
    httpserver.expect_oneshot_request(DISPATCH, method="POST").respond_with_data("", status=204)

    github.trigger(many)

    inputs = httpserver.log[0][0].get_json()["inputs"]
    assert inputs["truncated"] == "true"
    assert 0 < len(inputs["cves"]) <= 1000
    assert all(c.startswith("CVE-2024-") and len(c) == 14 for c in inputs["cves"].split(","))
    assert all(p.count("=") == 1 for p in inputs["packages"].split(","))
    assert inputs["details_url"] == trigger_request.details_url


def test_unauthorised_token_is_a_permanent_error_and_never_audited(
    httpserver, github, trigger_request
):
    httpserver.expect_oneshot_request(DISPATCH, method="POST").respond_with_json(
        {"message": "Bad credentials"}, status=401
    )

    with pytest.raises(ProviderError) as caught:
        github.trigger(trigger_request)

    assert caught.value.permanent
    assert caught.value.status == 401
    assert TOKEN not in str(caught.value)
    assert TOKEN not in audit_dump()
    call = provider_calls()[-1]
    assert call["method"] == "POST"
    assert call["status"] == 401
    assert call["url"].endswith(DISPATCH)


def test_ping_reads_the_workflow(httpserver, github):
    httpserver.expect_oneshot_request(
        "/repos/acme/api/actions/workflows/rebuild.yml"
    ).respond_with_json({"id": 1, "state": "active"})
    assert github.ping() == ""


def test_ping_reports_a_missing_workflow(httpserver, github):
    httpserver.expect_oneshot_request(
        "/repos/acme/api/actions/workflows/rebuild.yml"
    ).respond_with_response(Response(json.dumps({"message": "Not Found"}), status=404))
    assert "404" in github.ping()


def test_run_never_found_fails_after_the_matching_window(httpserver, github):
    httpserver.expect_oneshot_request(
        "/repos/acme/api/actions/workflows/rebuild.yml/runs"
    ).respond_with_json({"total_count": 0, "workflow_runs": []})
    state = {
        "mode": "workflow_dispatch",
        "correlation_id": CORRELATION_ID,
        "since": "2020-01-01T00:00:00Z",
    }

    status = github.status(state)

    assert status.state == "failed"
    assert "run-name" in status.detail


def test_repository_dispatch_run_is_followed_once_named_with_the_id(httpserver, make_target):
    github = GitHubActions(make_target("github", options={"dispatch": "repository_dispatch"}))
    state = {
        "mode": "repository_dispatch",
        "correlation_id": CORRELATION_ID,
        "since": "2020-01-01T00:00:00Z",
    }
    httpserver.expect_oneshot_request("/repos/acme/api/actions/runs").respond_with_json(
        {"total_count": 0, "workflow_runs": []}
    )
    assert github.status(state).state == "running"

    httpserver.expect_oneshot_request("/repos/acme/api/actions/runs").respond_with_json(
        {
            "total_count": 1,
            "workflow_runs": [
                run(run_id=31, status="completed", conclusion="success", title=CORRELATION_ID)
            ],
        }
    )
    status = github.status(state)

    assert httpserver.log[-1][0].args["event"] == "repository_dispatch"
    assert status.state == "succeeded"
    assert status.provider_state["run_id"] == 31


def test_find_run_names_the_run_an_earlier_dispatch_started(httpserver, github, trigger_request):
    httpserver.expect_oneshot_request(
        "/repos/acme/api/actions/workflows/rebuild.yml/runs", method="GET"
    ).respond_with_json(
        {"total_count": 1, "workflow_runs": [run(run_id=8, title=f"Rebuild {CORRELATION_ID}")]}
    )

    found = github.find_run(trigger_request, datetime(2026, 11, 30, 12, 0, tzinfo=UTC))

    listing, _ = httpserver.log[-1]
    assert listing.args["created"] == ">=2026-11-30T12:00:00Z"
    assert (found.external_id, found.provider_state["run_id"]) == ("8", 8)


def test_find_run_without_a_named_run_is_none(httpserver, github, trigger_request):
    httpserver.expect_oneshot_request(
        "/repos/acme/api/actions/workflows/rebuild.yml/runs", method="GET"
    ).respond_with_json({"total_count": 1, "workflow_runs": [run(run_id=7, title="other")]})

    assert github.find_run(trigger_request, datetime(2026, 11, 30, tzinfo=UTC)) is None
