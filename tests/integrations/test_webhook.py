from __future__ import annotations

import json

import pytest

from remediator.core.errors import ProviderError
from remediator.core.signing import standard_webhooks_verify
from remediator.integrations.webhook.client import GenericWebhook

from .conftest import CORRELATION_ID, DIGEST, TOKEN, audit_dump

pytestmark = pytest.mark.django_db


@pytest.fixture
def webhook(make_target, httpserver):
    return GenericWebhook(make_target("webhook", url=httpserver.url_for("/hooks/rebuild")))


def test_delivery_is_signed_the_standard_webhooks_way(httpserver, webhook, trigger_request):
    httpserver.expect_oneshot_request("/hooks/rebuild", method="POST").respond_with_data(
        "", status=202
    )

    status = webhook.trigger(trigger_request)

    request, _ = httpserver.log[0]
    body = request.get_data()
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["webhook-id"] == f"msg_{CORRELATION_ID}_1"
    verdict = standard_webhooks_verify(
        [TOKEN],
        msg_id=request.headers["webhook-id"],
        timestamp=request.headers["webhook-timestamp"],
        signature_header=request.headers["webhook-signature"],
        body=body,
    )
    assert verdict == ""
    assert standard_webhooks_verify(
        ["another-secret"],
        msg_id=request.headers["webhook-id"],
        timestamp=request.headers["webhook-timestamp"],
        signature_header=request.headers["webhook-signature"],
        body=body,
    )
    payload = json.loads(body)
    assert payload["type"] == "remediator.rebuild.requested"
    assert payload["correlation_id"] == CORRELATION_ID
    assert payload["image"] == trigger_request.image
    assert payload["digest"] == DIGEST
    assert payload["vulnerabilities"] == ["CVE-2024-6119", "GHSA-h5c8-rqwp-cp95"]
    assert payload["packages"] == [
        {"name": "openssl", "fixed_version": "3.3.2-r0"},
        {"name": "zlib", "fixed_version": "1.3.1-r1"},
    ]
    assert payload["details_url"] == trigger_request.details_url
    assert status.state == "succeeded"
    assert status.detail == "delivered; the receiver reports no status"
    assert webhook.status(status.provider_state).state == "succeeded"
    assert TOKEN not in audit_dump()


def test_whsec_secrets_sign_with_the_decoded_key(
    httpserver, make_target, trigger_request, monkeypatch
):
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    monkeypatch.setenv("REMEDIATOR_SECRET_WHSEC", secret)
    webhook = GenericWebhook(
        make_target("webhook", url=httpserver.url_for("/hook"), token_env="REMEDIATOR_SECRET_WHSEC")
    )
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("ok")

    webhook.trigger(trigger_request)

    request, _ = httpserver.log[0]
    assert (
        standard_webhooks_verify(
            [secret],
            msg_id=request.headers["webhook-id"],
            timestamp=request.headers["webhook-timestamp"],
            signature_header=request.headers["webhook-signature"],
            body=request.get_data(),
        )
        == ""
    )


def test_rejected_delivery_is_a_permanent_error(httpserver, webhook, trigger_request):
    httpserver.expect_oneshot_request("/hooks/rebuild", method="POST").respond_with_data(
        "bad signature", status=401
    )
    with pytest.raises(ProviderError) as caught:
        webhook.trigger(trigger_request)
    assert caught.value.permanent


def test_ping_checks_the_secret_without_posting(httpserver, webhook, monkeypatch):
    assert webhook.ping() == ""
    monkeypatch.delenv("REMEDIATOR_SECRET_TEST")
    assert "REMEDIATOR_SECRET_TEST" in webhook.ping()
    assert httpserver.log == []
