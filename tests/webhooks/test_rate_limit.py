"""Per-source, per-client webhook rate limit: 429 + Retry-After, body not read or stored."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from findings.models import Delivery
from remediator.api.rate_limit import PROCESS_COUNTS

pytestmark = pytest.mark.django_db
TRIVY = "trivy/trivy_docs_reporting_alpine_latest.json"


@pytest.fixture(autouse=True)
def fresh_counts():
    cache.clear()
    PROCESS_COUNTS.clear()
    yield
    cache.clear()
    PROCESS_COUNTS.clear()


def bodies(fixture_bytes, n: int) -> list[bytes]:
    """Distinct bodies (a duplicate would be answered 200, not stored again)."""
    base = fixture_bytes(TRIVY).rstrip()[:-1]
    return [base + f', "n": {i}}}'.encode() for i in range(n)]


def test_over_the_limit_answers_429_with_retry_after_and_stores_nothing(
    post, fixture_bytes, settings
):
    settings.WEBHOOK_RATE_LIMIT = 2
    first, second, third = bodies(fixture_bytes, 3)
    assert post("/api/v1/webhooks/trivy/", first).status_code == 202
    assert post("/api/v1/webhooks/trivy/", second).status_code == 202

    refused = post("/api/v1/webhooks/trivy/", third)

    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert "not stored" in refused.json()["detail"]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert Delivery.objects.count() == 2


def test_the_limit_is_per_source_and_per_client(post, fixture_bytes, settings):
    settings.WEBHOOK_RATE_LIMIT = 1
    one, two, three = bodies(fixture_bytes, 3)
    assert post("/api/v1/webhooks/trivy/", one).status_code == 202
    assert post("/api/v1/webhooks/auto/", two).status_code == 202  # another source
    other_client = post("/api/v1/webhooks/trivy/", three, REMOTE_ADDR="192.0.2.7")
    assert other_client.status_code == 202


def test_unauthenticated_posts_count_too(post, fixture_bytes, settings):
    """The check runs before authentication: guessing secrets is limited as well."""
    settings.WEBHOOK_RATE_LIMIT = 1
    assert post("/api/v1/webhooks/trivy/", b"{}", auth=False).status_code == 401
    assert post("/api/v1/webhooks/trivy/", b"{}", auth=False).status_code == 429


def test_per_source_override_and_zero_turns_it_off(post, fixture_bytes, settings):
    settings.WEBHOOK_RATE_LIMIT = 1
    settings.WEBHOOK_RATE_LIMITS = {"trivy": 0}
    answers = [post("/api/v1/webhooks/trivy/", b).status_code for b in bodies(fixture_bytes, 3)]
    assert answers == [202, 202, 202]


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(post, fixture_bytes, settings):
    settings.WEBHOOK_RATE_LIMIT = 1
    settings.TRUST_PROXY_HEADERS = True
    one, two, three = bodies(fixture_bytes, 3)
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    assert post("/api/v1/webhooks/trivy/", one, HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy)
    second = post("/api/v1/webhooks/trivy/", two, HTTP_X_FORWARDED_FOR="198.51.100.2", **proxy)
    assert second.status_code == 202
    # a client cannot escape by prepending its own X-Forwarded-For entries
    spoofed = post(
        "/api/v1/webhooks/trivy/", three, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.2", **proxy
    )
    assert spoofed.status_code == 429


def test_without_the_shared_cache_each_process_counts_in_memory(
    post, fixture_bytes, settings, monkeypatch
):
    """An outage of the cache (the database table by default) is no free-for-all."""
    settings.WEBHOOK_RATE_LIMIT = 1

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "incr", down)
    answers = [post("/api/v1/webhooks/trivy/", b).status_code for b in bodies(fixture_bytes, 2)]
    assert answers == [202, 429]
