"""Each way a sender can prove it knows the secret, and each way it can fail to."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

import pytest

from findings.models import Delivery
from remediator.core.signing import standard_webhooks_signature

pytestmark = pytest.mark.django_db
URL = "/api/v1/webhooks/trivy/"
TRIVY = "trivy/trivy_docs_reporting_alpine_latest.json"


@pytest.fixture
def body(fixture_bytes) -> bytes:
    return fixture_bytes(TRIVY)


def standard(secret: str, body: bytes, *, at: int | None = None, msg_id: str = "msg_1") -> dict:
    at = int(time.time()) if at is None else at
    return {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(at),
        "HTTP_WEBHOOK_SIGNATURE": standard_webhooks_signature(secret, msg_id, at, body),
    }


def hub(secret: str, body: bytes) -> dict:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"HTTP_X_HUB_SIGNATURE_256": f"sha256={digest}"}


def assert_refused(response, status: int = 401) -> None:
    assert response.status_code == status, response.content
    assert response.json()["error"] in ("unauthorized", "not_configured")
    assert not Delivery.objects.exists()


def test_bearer_secret_is_accepted(post, body):
    response = post(URL, body)
    assert response.status_code == 202
    assert Delivery.objects.get().headers["auth"] == "authorization"


def test_bare_secret_in_authorization_is_accepted_as_harbor_sends_it(post, body, secret):
    assert post(URL, body, HTTP_AUTHORIZATION=secret).status_code == 202


def test_wrong_bearer_secret_is_401_and_not_stored(post, body):
    assert_refused(post(URL, body, HTTP_AUTHORIZATION="Bearer nope"))


def test_missing_credentials_are_401(post, body):
    assert_refused(post(URL, body, auth=False))


def test_secret_in_the_path_is_accepted(post, body, secret):
    response = post(f"{URL}{secret}/", body, auth=False)
    assert response.status_code == 202
    assert response.json()["url"] == f"/api/v1/deliveries/{Delivery.objects.get().pk}/"


def test_wrong_secret_in_the_path_is_401(post, body):
    assert_refused(post(f"{URL}wrong/", body, auth=False))


@pytest.mark.parametrize("payload", [b"not json", b'{"hello": "world"}'])
def test_secret_in_the_path_never_reaches_the_request_log(post, secret, caplog, payload):
    caplog.set_level(logging.INFO, logger="django.request")

    response = post(f"{URL}{secret}/", payload, auth=False)

    assert response.status_code in (400, 422)
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert URL in logged and secret not in logged


def test_wrong_secret_in_the_path_is_not_logged_either(post, body, caplog):
    caplog.set_level(logging.INFO, logger="django.request")

    assert post(f"{URL}an-old-rotated-secret/", body, auth=False).status_code == 401
    assert "an-old-rotated-secret" not in caplog.text


def test_standard_webhooks_signature_is_accepted(post, body, secret):
    response = post(URL, body, auth=False, **standard(secret, body))
    assert response.status_code == 202
    assert Delivery.objects.get().external_id == "msg_1"


def test_standard_webhooks_signature_over_another_body_is_401(post, body, secret):
    assert_refused(post(URL, body, auth=False, **standard(secret, body + b" ")))


@pytest.mark.parametrize("offset", [-310, 310], ids=["expired", "future"])
def test_standard_webhooks_timestamp_out_of_tolerance_is_401(post, body, secret, offset):
    headers = standard(secret, body, at=int(time.time()) + offset)
    response = post(URL, body, auth=False, **headers)
    assert_refused(response)
    assert "five minutes" in response.json()["detail"]


def test_standard_webhooks_timestamp_within_tolerance_is_accepted(post, body, secret):
    headers = standard(secret, body, at=int(time.time()) - 240)
    assert post(URL, body, auth=False, **headers).status_code == 202


def test_rotated_secrets_both_verify(post, body, monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET_TRIVY", "new-secret, old-secret")

    old = post(URL, body, auth=False, **standard("old-secret", body, msg_id="a"))
    new = post(URL, body + b"\n", auth=False, **standard("new-secret", body + b"\n", msg_id="b"))
    bearer_old = post(URL, body + b"\n\n", HTTP_AUTHORIZATION="Bearer old-secret")

    assert (old.status_code, new.status_code, bearer_old.status_code) == (202, 202, 202)


def test_several_signatures_in_one_header_pass_when_one_matches(post, body, secret):
    headers = standard(secret, body)
    headers["HTTP_WEBHOOK_SIGNATURE"] = "v1,AAAA " + headers["HTTP_WEBHOOK_SIGNATURE"]
    assert post(URL, body, auth=False, **headers).status_code == 202


def test_hub_signature_is_accepted(post, body, secret):
    response = post(URL, body, auth=False, HTTP_X_GITHUB_DELIVERY="gh-1", **hub(secret, body))
    assert response.status_code == 202
    assert Delivery.objects.get().external_id == "gh-1"


def test_wrong_hub_signature_is_401(post, body):
    assert_refused(post(URL, body, auth=False, **hub("other", body)))


def test_source_secret_overrides_the_general_one(post, body, monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET_TRIVY", "only-trivy")
    assert_refused(post(URL, body))
    assert post(URL, body, HTTP_AUTHORIZATION="Bearer only-trivy").status_code == 202


def test_secret_read_from_a_file(post, body, monkeypatch, tmp_path):
    path = tmp_path / "secret"
    path.write_text("from-a-file\n")
    monkeypatch.setenv("WEBHOOK_SECRET_TRIVY_FILE", str(path))
    assert post(URL, body, HTTP_AUTHORIZATION="Bearer from-a-file").status_code == 202


def test_no_secret_configured_is_403(post, body, monkeypatch):
    monkeypatch.delenv("WEBHOOK_SECRET")
    assert_refused(post(URL, body), status=403)


def test_no_secret_configured_is_accepted_when_unauthenticated_posts_are_allowed(
    post, body, monkeypatch, settings
):
    monkeypatch.delenv("WEBHOOK_SECRET")
    settings.WEBHOOK_ALLOW_UNAUTHENTICATED = True
    assert post(URL, body, auth=False).status_code == 202
