from __future__ import annotations

from datetime import UTC, datetime

import pytest

from remediator.core.errors import ProviderError
from remediator.integrations.gitlab.client import GitLabCI

from .conftest import API_TOKEN, CORRELATION_ID, DIGEST, TOKEN, audit_dump

pytestmark = pytest.mark.django_db

TRIGGER = "/api/v4/projects/42/trigger/pipeline"


def pipeline(status="created", pipeline_id=1234):
    return {
        "id": pipeline_id,
        "iid": 17,
        "project_id": 42,
        "sha": "a91957a858320c0e17f3a0eca7cfacbff50ea29a",
        "ref": "main",
        "status": status,
        "source": "trigger",
        "web_url": f"https://gitlab.example.com/acme/api/-/pipelines/{pipeline_id}",
    }


@pytest.fixture
def gitlab(make_target):
    return GitLabCI(make_target("gitlab", project="42", api_token_env="REMEDIATOR_SECRET_TEST_API"))


def test_trigger_sends_token_ref_and_remediator_variables(httpserver, gitlab, trigger_request):
    httpserver.expect_oneshot_request(TRIGGER, method="POST").respond_with_json(
        pipeline(), status=201
    )

    status = gitlab.trigger(trigger_request)

    form = httpserver.log[0][0].form
    assert form["token"] == TOKEN
    assert form["ref"] == "main"
    assert form["variables[REMEDIATOR_CORRELATION_ID]"] == CORRELATION_ID
    assert form["variables[REMEDIATOR_IMAGE]"] == trigger_request.image
    assert form["variables[REMEDIATOR_DIGEST]"] == DIGEST
    assert form["variables[REMEDIATOR_CVES]"] == "CVE-2024-6119,GHSA-h5c8-rqwp-cp95"
    assert form["variables[REMEDIATOR_PACKAGES]"] == "openssl=3.3.2-r0,zlib=1.3.1-r1"
    assert form["variables[REMEDIATOR_DETAILS_URL]"] == trigger_request.details_url
    assert status.state == "queued"
    assert status.external_id == "1234"
    assert status.url.endswith("/-/pipelines/1234")
    assert status.provider_state == {"pipeline_id": 1234}
    assert TOKEN not in audit_dump()


def test_project_path_is_url_encoded(httpserver, make_target, trigger_request):
    gitlab = GitLabCI(make_target("gitlab", project="acme/images/api"))
    httpserver.expect_oneshot_request(
        "/api/v4/projects/acme/images/api/trigger/pipeline", method="POST"
    ).respond_with_json(pipeline(), status=201)

    gitlab.trigger(trigger_request)

    raw = httpserver.log[0][0].environ["REQUEST_URI"]
    assert raw == "/api/v4/projects/acme%2Fimages%2Fapi/trigger/pipeline"


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("created", "queued"),
        ("waiting_for_resource", "queued"),
        ("preparing", "queued"),
        ("pending", "queued"),
        ("scheduled", "queued"),
        ("running", "running"),
        ("manual", "running"),
        ("success", "succeeded"),
        ("failed", "failed"),
        ("canceled", "cancelled"),
        ("skipped", "cancelled"),
    ],
)
def test_status_maps_each_pipeline_status(httpserver, gitlab, remote, expected):
    httpserver.expect_oneshot_request(
        "/api/v4/projects/42/pipelines/1234",
        method="GET",
        headers={"PRIVATE-TOKEN": API_TOKEN},
    ).respond_with_json(pipeline(status=remote))

    status = gitlab.status({"pipeline_id": 1234})

    assert status.state == expected
    assert status.detail == remote
    assert status.external_id == "1234"


def test_missing_api_token_fails_before_triggering(
    httpserver, make_target, trigger_request, monkeypatch
):
    monkeypatch.delenv("REMEDIATOR_SECRET_TEST_API")
    gitlab = GitLabCI(
        make_target("gitlab", project="42", api_token_env="REMEDIATOR_SECRET_TEST_API")
    )

    with pytest.raises(ProviderError) as caught:
        gitlab.trigger(trigger_request)

    assert caught.value.permanent
    assert "REMEDIATOR_SECRET_TEST_API" in str(caught.value)
    assert httpserver.log == []


def test_wrong_trigger_token_is_permanent(httpserver, gitlab, trigger_request):
    httpserver.expect_oneshot_request(TRIGGER, method="POST").respond_with_json(
        {"message": "404 Not Found"}, status=404
    )
    with pytest.raises(ProviderError) as caught:
        gitlab.trigger(trigger_request)
    assert caught.value.permanent


def test_ping_reads_the_project_with_the_api_token(httpserver, gitlab):
    httpserver.expect_oneshot_request(
        "/api/v4/projects/42", headers={"PRIVATE-TOKEN": API_TOKEN}
    ).respond_with_json({"id": 42, "path_with_namespace": "acme/api"})
    assert gitlab.ping() == ""


def test_find_run_without_an_api_token_cannot_tell(httpserver, make_target, trigger_request):
    blind = GitLabCI(make_target("gitlab", project="42"))

    assert blind.find_run(trigger_request, datetime(2026, 11, 30, tzinfo=UTC)) is None
    assert httpserver.log == []


def test_find_run_matches_the_correlation_variable(httpserver, gitlab, trigger_request):
    httpserver.expect_oneshot_request("/api/v4/projects/42/pipelines").respond_with_json(
        [pipeline(pipeline_id=1235), pipeline(pipeline_id=1234)]
    )
    for pid, value in ((1235, "another"), (1234, CORRELATION_ID)):
        httpserver.expect_oneshot_request(
            f"/api/v4/projects/42/pipelines/{pid}/variables"
        ).respond_with_json([{"key": "REMEDIATOR_CORRELATION_ID", "value": value}])

    found = gitlab.find_run(trigger_request, datetime(2026, 11, 30, 12, 0, tzinfo=UTC))

    listing, _ = httpserver.log[0]
    assert listing.args["updated_after"] == "2026-11-30T12:00:00Z"
    assert listing.headers["PRIVATE-TOKEN"] == API_TOKEN
    assert found.provider_state == {"pipeline_id": 1234}
