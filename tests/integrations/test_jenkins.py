from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from remediator.core.errors import ProviderError
from remediator.integrations.jenkins.client import Jenkins

from .conftest import CORRELATION_ID, DIGEST, TOKEN, audit_dump

pytestmark = pytest.mark.django_db

BUILD = "/job/team/job/api-image/buildWithParameters"
CRUMB = {
    "_class": "hudson.security.csrf.DefaultCrumbIssuer",
    "crumb": "4b1d6e8f0c2a",
    "crumbRequestField": "Jenkins-Crumb",
}


@pytest.fixture
def jenkins(make_target):
    return Jenkins(make_target("jenkins", project="team/api-image", username="remediator"))


def issue_crumb(httpserver):
    httpserver.expect_oneshot_request("/crumbIssuer/api/json", method="GET").respond_with_json(
        CRUMB, headers={"Set-Cookie": "JSESSIONID.abc=node0xyz; Path=/; HttpOnly"}
    )


def queued(httpserver, status=201, item=7, host=None):
    location = f"{host or httpserver.url_for('').rstrip('/')}/queue/item/{item}/"
    httpserver.expect_oneshot_request(BUILD, method="POST").respond_with_data(
        "", status=status, headers={"Location": location}
    )


def test_trigger_sends_crumb_cookie_basic_auth_and_parameters(httpserver, jenkins, trigger_request):
    issue_crumb(httpserver)
    queued(httpserver)

    status = jenkins.trigger(trigger_request)

    post, _ = httpserver.log[1]
    assert post.path == BUILD
    assert post.headers["Jenkins-Crumb"] == "4b1d6e8f0c2a"
    assert "JSESSIONID.abc=node0xyz" in post.headers["Cookie"]
    expected_auth = base64.b64encode(f"remediator:{TOKEN}".encode()).decode()
    assert post.headers["Authorization"] == f"Basic {expected_auth}"
    assert post.form["REMEDIATOR_CORRELATION_ID"] == CORRELATION_ID
    assert post.form["REMEDIATOR_IMAGE"] == trigger_request.image
    assert post.form["REMEDIATOR_DIGEST"] == DIGEST
    assert post.form["REMEDIATOR_CVES"] == "CVE-2024-6119,GHSA-h5c8-rqwp-cp95"
    assert post.form["REMEDIATOR_PACKAGES"] == "openssl=3.3.2-r0,zlib=1.3.1-r1"
    assert post.form["REMEDIATOR_DETAILS_URL"] == trigger_request.details_url
    assert status.state == "queued"
    assert status.provider_state["queue_url"] == httpserver.url_for("/queue/item/7/")
    assert TOKEN not in audit_dump()


def test_no_crumb_issuer_means_csrf_is_off(httpserver, jenkins, trigger_request):
    httpserver.expect_oneshot_request("/crumbIssuer/api/json").respond_with_data(
        "Not Found", status=404
    )
    queued(httpserver)

    assert jenkins.trigger(trigger_request).state == "queued"
    assert "Jenkins-Crumb" not in httpserver.log[1][0].headers


def test_queue_location_on_another_host_is_followed_on_the_build_target_host(
    httpserver, jenkins, trigger_request
):
    issue_crumb(httpserver)
    queued(httpserver, host="http://jenkins.internal:8080")

    status = jenkins.trigger(trigger_request)

    assert status.provider_state["queue_url"] == httpserver.url_for("/queue/item/7/")


def test_303_follows_the_item_already_queued(httpserver, jenkins, trigger_request):
    issue_crumb(httpserver)
    queued(httpserver, status=303, item=5)

    status = jenkins.trigger(trigger_request)

    assert status.state == "queued"
    assert status.provider_state["queue_url"].endswith("/queue/item/5/")
    assert status.provider_state["merged"] is True


def test_409_conflict_is_permanent_with_the_message(httpserver, jenkins, trigger_request):
    issue_crumb(httpserver)
    httpserver.expect_oneshot_request(BUILD, method="POST").respond_with_data(
        "Job api-image is disabled", status=409
    )

    with pytest.raises(ProviderError) as caught:
        jenkins.trigger(trigger_request)

    assert caught.value.permanent
    assert "is disabled" in str(caught.value)


def test_stale_crumb_is_fetched_again_once(httpserver, jenkins, trigger_request):
    issue_crumb(httpserver)
    httpserver.expect_oneshot_request(BUILD, method="POST").respond_with_data(
        "No valid crumb was included in the request", status=403
    )
    issue_crumb(httpserver)
    queued(httpserver)

    assert jenkins.trigger(trigger_request).state == "queued"
    assert [r.path for r, _ in httpserver.log] == [
        "/crumbIssuer/api/json",
        BUILD,
        "/crumbIssuer/api/json",
        BUILD,
    ]


def test_waiting_queue_item_is_queued_with_the_reason(httpserver, jenkins):
    httpserver.expect_oneshot_request("/queue/item/7/api/json").respond_with_json(
        {
            "_class": "hudson.model.Queue$WaitingItem",
            "id": 7,
            "blocked": False,
            "buildable": False,
            "cancelled": False,
            "why": "In the quiet period. Expires in 4.9 sec",
        }
    )

    status = jenkins.status({"queue_url": httpserver.url_for("/queue/item/7/")})

    assert status.state == "queued"
    assert "quiet period" in status.detail


@pytest.mark.parametrize(
    ("building", "result", "expected"),
    [
        (True, None, "running"),
        (False, "SUCCESS", "succeeded"),
        (False, "UNSTABLE", "succeeded"),
        (False, "FAILURE", "failed"),
        (False, "ABORTED", "cancelled"),
    ],
)
def test_started_build_is_followed_to_its_result(httpserver, jenkins, building, result, expected):
    build_url = "http://jenkins.example.com/job/team/job/api-image/12/"
    httpserver.expect_oneshot_request("/queue/item/7/api/json").respond_with_json(
        {
            "_class": "hudson.model.Queue$LeftItem",
            "id": 7,
            "cancelled": False,
            "executable": {"_class": "hudson.model.FreeStyleBuild", "number": 12, "url": build_url},
        }
    )
    httpserver.expect_oneshot_request("/job/team/job/api-image/12/api/json").respond_with_json(
        {"number": 12, "building": building, "result": result, "url": build_url}
    )

    status = jenkins.status({"queue_url": httpserver.url_for("/queue/item/7/")})

    assert status.state == expected
    assert status.external_id == "12"
    assert status.url == build_url
    assert status.provider_state["build_number"] == 12
    assert status.provider_state["build_url"] == httpserver.url_for("/job/team/job/api-image/12/")


def test_known_build_is_polled_without_the_queue(httpserver, jenkins):
    httpserver.expect_oneshot_request("/job/team/job/api-image/12/api/json").respond_with_json(
        {"number": 12, "building": False, "result": "FAILURE"}
    )
    state = {
        "queue_url": httpserver.url_for("/queue/item/7/"),
        "build_url": httpserver.url_for("/job/team/job/api-image/12/"),
        "build_number": 12,
    }

    assert jenkins.status(state).state == "failed"
    assert len(httpserver.log) == 1


def test_queue_item_forgotten_before_the_build_started_is_failed(httpserver, jenkins):
    httpserver.expect_oneshot_request("/queue/item/7/api/json").respond_with_data(
        "Not Found", status=404
    )

    status = jenkins.status({"queue_url": httpserver.url_for("/queue/item/7/")})

    assert status.state == "failed"
    assert status.detail == "queue item expired before the build started"


def test_cancelled_queue_item_is_cancelled(httpserver, jenkins):
    httpserver.expect_oneshot_request("/queue/item/7/api/json").respond_with_json(
        {"_class": "hudson.model.Queue$LeftItem", "id": 7, "cancelled": True, "executable": None}
    )

    assert jenkins.status({"queue_url": httpserver.url_for("/queue/item/7/")}).state == (
        "cancelled"
    )


def test_ping_reports_a_disabled_job(httpserver, jenkins):
    httpserver.expect_oneshot_request("/job/team/job/api-image/api/json").respond_with_json(
        {"_class": "hudson.model.FreeStyleProject", "buildable": False}
    )
    assert "disabled" in jenkins.ping()


# Resumed dispatch: the answer to an earlier trigger was lost; find its run by parameter.
SINCE = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
AFTER_MS = int(SINCE.timestamp() * 1000) + 5_000
JOB = "/job/team/job/api-image/"


def parameters(correlation_id):
    """A queue item's or build's actions as Jenkins lists them (ParametersAction + others)."""
    return [
        {"_class": "hudson.model.CauseAction"},
        {
            "_class": "hudson.model.ParametersAction",
            "parameters": [
                {"_class": "hudson.model.StringParameterValue", "name": "REMEDIATOR_IMAGE"},
                {
                    "_class": "hudson.model.StringParameterValue",
                    "name": "REMEDIATOR_CORRELATION_ID",
                    "value": correlation_id,
                },
            ],
        },
        {},
    ]


def queue(httpserver, items):
    httpserver.expect_oneshot_request("/queue/api/json", method="GET").respond_with_json(
        {"_class": "hudson.model.Queue", "discoverableItems": [], "items": items}
    )


def builds(httpserver, entries):
    httpserver.expect_oneshot_request(JOB + "api/json", method="GET").respond_with_json(
        {"_class": "org.jenkinsci.plugins.workflow.job.WorkflowJob", "builds": entries}
    )


def test_find_run_takes_the_queue_item_carrying_the_correlation_id(
    httpserver, jenkins, trigger_request
):
    other_job = {"url": "http://jenkins.example.com/job/team/job/other/"}
    queue(
        httpserver,
        [
            {
                "id": 5,
                "url": "queue/item/5/",
                "task": other_job,
                "actions": parameters(CORRELATION_ID),
            },
            {
                "id": 6,
                "url": "queue/item/6/",
                "task": {"url": "http://jenkins.example.com" + JOB},
                "actions": parameters("someone-else"),
            },
            {
                "id": 7,
                "url": "queue/item/7/",
                "task": {"url": "http://jenkins.example.com" + JOB},
                "actions": parameters(CORRELATION_ID),
            },
        ],
    )

    found = jenkins.find_run(trigger_request, SINCE)

    assert found.state == "queued"
    assert found.provider_state["queue_url"] == httpserver.url_for("/queue/item/7/")
    request, _ = httpserver.log[0]
    assert "task[url]" in request.args["tree"] and "parameters[name,value]" in request.args["tree"]
    assert request.headers["Authorization"].startswith("Basic ")


def test_find_run_takes_a_build_started_since_the_dispatch(httpserver, jenkins, trigger_request):
    queue(httpserver, [])
    build_url = "http://jenkins.example.com/job/team/job/api-image/12/"
    builds(
        httpserver,
        [
            {
                "number": 13,
                "url": build_url.replace("12", "13"),
                "timestamp": AFTER_MS,
                "building": True,
                "result": None,
                "actions": parameters("someone-else"),
            },
            {
                "number": 12,
                "url": build_url,
                "timestamp": AFTER_MS,
                "building": False,
                "result": "SUCCESS",
                "actions": parameters(CORRELATION_ID),
            },
        ],
    )

    found = jenkins.find_run(trigger_request, SINCE)

    assert (found.state, found.external_id, found.url) == ("succeeded", "12", build_url)
    assert found.provider_state["build_url"] == httpserver.url_for(JOB + "12/")
    # The next poll follows that build directly.
    httpserver.expect_oneshot_request(JOB + "12/api/json").respond_with_json(
        {"number": 12, "building": False, "result": "SUCCESS"}
    )
    assert jenkins.status(found.provider_state).state == "succeeded"


def test_find_run_ignores_builds_older_than_the_dispatch(httpserver, jenkins, trigger_request):
    queue(httpserver, [])
    builds(
        httpserver,
        [
            {
                "number": 3,
                "url": "http://jenkins.example.com" + JOB + "3/",
                "timestamp": AFTER_MS - 3_600_000,
                "building": False,
                "result": "SUCCESS",
                "actions": parameters(CORRELATION_ID),
            }
        ],
    )

    assert jenkins.find_run(trigger_request, SINCE) is None
