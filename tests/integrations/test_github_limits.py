"""GitHub's rate limits and redirects, answered as GitHub documents them.

Rate limits: "Rate limits for the REST API" / "Troubleshooting the REST API"
(403 or 429; ``retry-after``; ``x-ratelimit-remaining: 0`` + ``x-ratelimit-reset``
in UTC epoch seconds). Redirects: "Getting started with the REST API" > HTTP
redirects (301 permanent, 302/307 temporary; a renamed repository answers 301
to GET and 307 to other methods, with a ``/repositories/{id}/...`` Location).
"""

from __future__ import annotations

import time

import pytest
from pytest_httpserver import HTTPServer

from remediator.core.errors import ProviderError
from remediator.integrations.github.client import GitHubActions
from remediator.integrations.github.ratelimit import SECONDARY_WAIT, rate_limit_wait

from .conftest import provider_calls

pytestmark = pytest.mark.django_db

DISPATCH = "/repos/acme/api/actions/workflows/rebuild.yml/dispatches"
RUN = "/repos/acme/api/actions/runs/99"
MOVED_RUN = "/repositories/1296269/actions/runs/99"
PRIMARY_BODY = {
    "message": "API rate limit exceeded for user ID 1. If you reach out to GitHub Support "
    "for help, please include the request ID 0000:0000:0000000:0000000:00000000.",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
}
SECONDARY_BODY = {
    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before "
    "you try again. If you reach out to GitHub Support for help, please include the "
    "request ID 0000:0000:0000000:0000000:00000000.",
    "documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/"
    "rate-limits-for-the-rest-api#about-secondary-rate-limits",
}
DISPATCHED = {
    "workflow_run_id": 99,
    "run_url": "https://api.github.com/repos/acme/api/actions/runs/99",
    "html_url": "https://github.com/acme/api/actions/runs/99",
}
RUN_BODY = {
    "id": 99,
    "name": "rebuild",
    "display_title": "Rebuild",
    "status": "completed",
    "conclusion": "success",
    "html_url": "https://github.com/acme/api/actions/runs/99",
}


def limit_headers(remaining: int, reset: int) -> dict[str, str]:
    return {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-used": str(5000 - remaining),
        "x-ratelimit-reset": str(reset),
        "x-ratelimit-resource": "core",
    }


@pytest.fixture
def github(make_target):
    return GitHubActions(make_target("github", workflow="rebuild.yml"))


def posts(httpserver: HTTPServer, path: str) -> list:
    return [r for r, _ in httpserver.log if r.path == path and r.method == "POST"]


@pytest.mark.parametrize("status", [403, 429])
def test_a_rate_limited_dispatch_is_raised_at_once_with_the_reset(
    httpserver, github, trigger_request, status
):
    reset = int(time.time()) + 600
    httpserver.expect_request(DISPATCH, method="POST").respond_with_json(
        PRIMARY_BODY, status=status, headers=limit_headers(0, reset)
    )

    with pytest.raises(ProviderError) as caught:
        github.trigger(trigger_request)

    assert not caught.value.permanent and caught.value.status == status
    assert 590 <= caught.value.retry_after <= 602  # the reset, for the task's retry
    assert "try again after" in str(caught.value)
    assert len(posts(httpserver, DISPATCH)) == 1  # no waiting, no second call meanwhile
    [limited] = provider_calls()
    assert limited["status"] == status
    assert limited["error"].startswith("rate limited: retry at ")
    assert 590 <= limited["wait_s"] <= 602


def test_a_secondary_limit_while_polling_is_raised_with_its_retry_after(httpserver, github):
    httpserver.expect_request(RUN, method="GET").respond_with_json(
        SECONDARY_BODY, status=403, headers={"retry-after": "1", **limit_headers(4990, 0)}
    )

    with pytest.raises(ProviderError) as caught:
        github.status({"mode": "workflow_dispatch", "run_id": 99})

    assert not caught.value.permanent and caught.value.retry_after == 1.0
    assert [c["wait_s"] for c in provider_calls()] == [1.0]
    assert len(httpserver.log) == 1


def test_forbidden_without_a_rate_limit_stays_permanent(httpserver, github, trigger_request):
    httpserver.expect_request(DISPATCH, method="POST").respond_with_json(
        {
            "message": "Resource not accessible by personal access token",
            "documentation_url": "https://docs.github.com/rest/actions/workflows"
            "#create-a-workflow-dispatch-event",
            "status": "403",
        },
        status=403,
        headers=limit_headers(4999, int(time.time()) + 3600),
    )

    with pytest.raises(ProviderError) as caught:
        github.trigger(trigger_request)

    assert caught.value.permanent
    assert caught.value.status == 403
    assert len(posts(httpserver, DISPATCH)) == 1


def test_renamed_repository_301_is_followed_on_the_same_host(httpserver, github):
    moved = httpserver.url_for(MOVED_RUN)
    httpserver.expect_oneshot_request(RUN, method="GET").respond_with_json(
        {
            "message": "Moved Permanently",
            "url": moved,
            "documentation_url": "https://docs.github.com/v3/#http-redirects",
        },
        status=301,
        headers={"Location": moved},
    )
    httpserver.expect_oneshot_request(MOVED_RUN, method="GET").respond_with_json(RUN_BODY)

    status = github.status({"mode": "workflow_dispatch", "run_id": 99})

    assert status.state == "succeeded"
    assert [r.path for r, _ in httpserver.log] == [RUN, MOVED_RUN]
    moved_request = httpserver.log[1][0]
    assert moved_request.headers["Authorization"].startswith("Bearer ")


def test_307_repeats_the_dispatch_with_its_body(httpserver, github, trigger_request):
    moved = "/repositories/1296269/actions/workflows/rebuild.yml/dispatches"
    httpserver.expect_oneshot_request(DISPATCH, method="POST").respond_with_json(
        {"message": "Temporary Redirect", "url": httpserver.url_for(moved)},
        status=307,
        headers={"Location": httpserver.url_for(moved)},
    )
    httpserver.expect_oneshot_request(moved, method="POST").respond_with_json(DISPATCHED)

    github.trigger(trigger_request)

    first, second = (r for r, _ in httpserver.log)
    assert second.path == moved and second.method == "POST"
    assert second.get_json() == first.get_json()


def test_301_to_a_post_is_not_turned_into_a_get(httpserver, github, trigger_request):
    moved = httpserver.url_for("/repositories/1296269/actions/workflows/rebuild.yml/dispatches")
    httpserver.expect_request(DISPATCH, method="POST").respond_with_json(
        {"message": "Moved Permanently", "url": moved}, status=301, headers={"Location": moved}
    )

    with pytest.raises(ProviderError) as caught:
        github.trigger(trigger_request)

    assert caught.value.permanent
    assert len(httpserver.log) == 1


def test_redirect_to_another_host_is_refused(httpserver, github):
    other = HTTPServer(host="localhost", port=0)  # allowed plain-http host, other name
    other.start()
    try:
        other.expect_request(MOVED_RUN).respond_with_json(RUN_BODY)
        elsewhere = other.url_for(MOVED_RUN)
        httpserver.expect_request(RUN, method="GET").respond_with_json(
            {"message": "Moved Permanently", "url": elsewhere},
            status=301,
            headers={"Location": elsewhere},
        )

        with pytest.raises(ProviderError) as caught:
            github.status({"mode": "workflow_dispatch", "run_id": 99})

        assert caught.value.permanent
        assert "another host" in str(caught.value)
        assert other.log == []
    finally:
        other.clear()
        other.stop()


def test_redirect_to_plain_http_elsewhere_fails_the_outbound_check(httpserver, github):
    httpserver.expect_request(RUN, method="GET").respond_with_json(
        {"message": "Moved Permanently"},
        status=301,
        headers={"Location": "http://attacker.example.com/repositories/1/actions/runs/99"},
    )

    with pytest.raises(ProviderError) as caught:
        github.status({"mode": "workflow_dispatch", "run_id": 99})

    assert caught.value.permanent
    assert "must use https" in str(caught.value)


def test_redirects_stop_after_a_few_hops(httpserver, github):
    loop = httpserver.url_for(RUN)
    httpserver.expect_request(RUN, method="GET").respond_with_json(
        {"message": "Moved Permanently"}, status=301, headers={"Location": loop}
    )

    with pytest.raises(ProviderError) as caught:
        github.status({"mode": "workflow_dispatch", "run_id": 99})

    assert caught.value.status == 301
    assert len(httpserver.log) == 4  # the call and three hops


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected"),
    [
        (403, {"retry-after": "30"}, "", 30.0),
        (429, {"retry-after": "0"}, "", 0.0),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1100"}, "", 101.0),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "900"}, "", 1.0),
        (403, {"x-ratelimit-remaining": "12"}, "secondary rate limit", SECONDARY_WAIT),
        (429, {}, "", SECONDARY_WAIT),
        (403, {"x-ratelimit-remaining": "4999"}, "Resource not accessible", None),
        (401, {"x-ratelimit-remaining": "0"}, "Bad credentials", None),
        (404, {"retry-after": "5"}, "", None),
    ],
)
def test_what_counts_as_a_rate_limit(status, headers, body, expected):
    assert rate_limit_wait(status, headers, body, now=1000.0) == expected


def test_a_retry_after_of_zero_is_transient_and_called_once(httpserver, github):
    httpserver.expect_request(RUN, method="GET").respond_with_json(
        SECONDARY_BODY, status=429, headers={"retry-after": "0"}
    )

    with pytest.raises(ProviderError) as caught:
        github.status({"mode": "workflow_dispatch", "run_id": 99})

    assert not caught.value.permanent and caught.value.retry_after == 0.0
    assert len(httpserver.log) == 1  # the task waits (at least a second), not this call
