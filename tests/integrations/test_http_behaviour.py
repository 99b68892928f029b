"""What every CI provider shares: retries, timeouts, permanent vs transient, audit, secrets."""

from __future__ import annotations

import time

import pytest
from werkzeug import Response

from remediator.core.errors import ProviderError
from remediator.integrations.http import redact_url
from remediator.integrations.providers import PROVIDERS, provider_for

from .conftest import TOKEN, audit_dump, provider_calls

pytestmark = pytest.mark.django_db

PROVIDER_SLUGS = ["github", "gitlab", "jenkins", "webhook"]


def case(slug: str, server) -> tuple[dict, str, Response]:
    """(BuildTarget fields, trigger path, a successful answer) for each provider."""
    base = server.url_for("").rstrip("/")
    if slug == "github":
        return (
            {"workflow": "rebuild.yml"},
            "/repos/acme/api/actions/workflows/rebuild.yml/dispatches",
            Response("", status=204),
        )
    if slug == "gitlab":
        return (
            {"project": "42"},
            "/api/v4/projects/42/trigger/pipeline",
            Response('{"id": 5, "status": "created"}', status=201, mimetype="application/json"),
        )
    if slug == "jenkins":
        server.expect_request("/crumbIssuer/api/json").respond_with_data("", status=404)
        return (
            {"username": "remediator"},
            "/job/acme/job/api/buildWithParameters",
            Response("", status=201, headers={"Location": f"{base}/queue/item/3/"}),
        )
    return ({"url": f"{base}/hook"}, "/hook", Response("", status=200))


def trigger_posts(server, path: str) -> int:
    return sum(1 for request, _ in server.log if request.path == path)


@pytest.mark.parametrize("slug", PROVIDER_SLUGS)
def test_server_error_then_success_is_retried(httpserver, make_target, trigger_request, slug):
    fields, path, ok = case(slug, httpserver)
    httpserver.expect_oneshot_request(path, method="POST").respond_with_data("boom", status=500)
    httpserver.expect_oneshot_request(path, method="POST").respond_with_response(ok)

    status = provider_for(make_target(slug, **fields)).trigger(trigger_request)

    assert status.state in ("queued", "succeeded")
    assert trigger_posts(httpserver, path) == 2


@pytest.mark.parametrize("slug", [s for s in PROVIDER_SLUGS if s != "github"])
def test_rate_limit_with_retry_after_is_retried(httpserver, make_target, trigger_request, slug):
    """(GitHub's client knows its rate limits and hands the wait to the task instead:
    tests/integrations/test_github_limits.py.)"""
    fields, path, ok = case(slug, httpserver)
    httpserver.expect_oneshot_request(path, method="POST").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_oneshot_request(path, method="POST").respond_with_response(ok)

    provider_for(make_target(slug, **fields)).trigger(trigger_request)

    assert trigger_posts(httpserver, path) == 2


@pytest.mark.parametrize("slug", PROVIDER_SLUGS)
def test_unauthorised_is_permanent_and_not_retried(httpserver, make_target, trigger_request, slug):
    fields, path, _ = case(slug, httpserver)
    httpserver.expect_request(path, method="POST").respond_with_data("Unauthorized", status=401)

    with pytest.raises(ProviderError) as caught:
        provider_for(make_target(slug, **fields)).trigger(trigger_request)

    assert caught.value.permanent
    assert caught.value.status == 401
    assert trigger_posts(httpserver, path) == 1


@pytest.mark.parametrize("slug", PROVIDER_SLUGS)
def test_server_errors_that_last_are_transient(httpserver, make_target, trigger_request, slug):
    fields, path, _ = case(slug, httpserver)
    httpserver.expect_request(path, method="POST").respond_with_data("down", status=503)

    with pytest.raises(ProviderError) as caught:
        provider_for(make_target(slug, **fields)).trigger(trigger_request)

    assert not caught.value.permanent
    assert trigger_posts(httpserver, path) == 3  # PROVIDER_RETRIES = 2


class Sleeper:
    """Answers after ``seconds`` the first ``times`` calls, then at once; counts calls
    (the server's log only gets a request once its answer is sent)."""

    def __init__(self, seconds: float, then: Response | None = None, times: int = 10**6):
        self.seconds, self.then, self.times, self.calls = seconds, then, times, 0

    def __call__(self, request) -> Response:
        self.calls += 1
        if self.calls <= self.times:
            time.sleep(self.seconds)
        return self.then or Response("late", status=200)


@pytest.mark.parametrize("slug", PROVIDER_SLUGS)
def test_read_timeout_is_retried(threaded_server, make_target, trigger_request, settings, slug):
    settings.PROVIDER_READ_TIMEOUT = 0.1
    fields, path, ok = case(slug, threaded_server)
    handler = Sleeper(0.5, then=ok, times=1)
    threaded_server.expect_request(path, method="POST").respond_with_handler(handler)
    target = make_target(slug, **{"url": threaded_server.url_for("").rstrip("/"), **fields})

    status = provider_for(target).trigger(trigger_request)

    assert status.state in ("queued", "succeeded")
    assert handler.calls == 2


@pytest.mark.parametrize("slug", PROVIDER_SLUGS)
def test_read_timeouts_that_last_are_transient(
    threaded_server, make_target, trigger_request, settings, slug
):
    settings.PROVIDER_READ_TIMEOUT = 0.1
    fields, path, _ = case(slug, threaded_server)
    threaded_server.expect_request(path, method="POST").respond_with_handler(
        handler := Sleeper(0.4)
    )
    target = make_target(slug, **{"url": threaded_server.url_for("").rstrip("/"), **fields})

    with pytest.raises(ProviderError) as caught:
        provider_for(target).trigger(trigger_request)

    assert not caught.value.permanent
    assert "Timeout" in str(caught.value)
    # The server thread may pick up the last request after the client gave up on it.
    deadline = time.monotonic() + 5
    while handler.calls < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert handler.calls == 3
    call = provider_calls()[-1]
    assert call["status"] is None
    assert "Timeout" in call["error"]


@pytest.mark.parametrize("slug", PROVIDER_SLUGS)
def test_every_call_is_audited_without_secrets(httpserver, make_target, trigger_request, slug):
    fields, path, ok = case(slug, httpserver)
    httpserver.expect_oneshot_request(path, method="POST").respond_with_response(ok)

    provider_for(make_target(slug, **fields)).trigger(trigger_request)

    call = provider_calls()[-1]
    assert call["provider"] == slug
    assert call["method"] == "POST"
    assert call["url"] == httpserver.url_for(path)
    assert call["status"] in (200, 201, 204)
    assert isinstance(call["duration_ms"], int)
    assert TOKEN not in audit_dump()


@pytest.mark.parametrize("slug", PROVIDER_SLUGS)
def test_missing_secret_is_permanent_and_names_the_variable(
    httpserver, make_target, trigger_request, monkeypatch, slug
):
    fields, path, _ = case(slug, httpserver)
    monkeypatch.delenv("REMEDIATOR_SECRET_TEST")

    with pytest.raises(ProviderError) as caught:
        provider_for(make_target(slug, **fields)).trigger(trigger_request)

    assert caught.value.permanent
    assert "REMEDIATOR_SECRET_TEST" in str(caught.value)
    assert trigger_posts(httpserver, path) == 0
    assert "REMEDIATOR_SECRET_TEST" in provider_for(make_target(slug, **fields)).ping()


@pytest.mark.parametrize("slug", PROVIDER_SLUGS)
def test_secret_can_come_from_a_file(
    httpserver, make_target, trigger_request, monkeypatch, tmp_path, slug
):
    fields, path, ok = case(slug, httpserver)
    secret_file = tmp_path / "token"
    secret_file.write_text(TOKEN + "\n")
    monkeypatch.delenv("REMEDIATOR_SECRET_TEST")
    monkeypatch.setenv("REMEDIATOR_SECRET_TEST_FILE", str(secret_file))
    httpserver.expect_oneshot_request(path, method="POST").respond_with_response(ok)

    provider_for(make_target(slug, **fields)).trigger(trigger_request)

    assert trigger_posts(httpserver, path) == 1


def test_each_build_target_provider_has_a_client():
    from remediator.engine.models import Provider

    assert set(PROVIDERS) == set(Provider.values)


def test_unknown_provider_is_a_permanent_error(make_target):
    with pytest.raises(ProviderError) as caught:
        provider_for(make_target("circleci"))
    assert caught.value.permanent


def test_redacted_urls_lose_user_info_and_secret_parameters():
    url = "https://bot:hunter2@ci.example.com:8443/api?private_token=abc&ref=main"
    assert redact_url(url) == "https://ci.example.com:8443/api?private_token=%2A%2A%2A&ref=main"
