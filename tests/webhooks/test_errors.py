"""Every way a post can be wrong gets a 4xx and a JSON error, never a 5xx."""

from __future__ import annotations

import io

import pytest

from findings.models import Delivery, Finding
from remediator.intake.receive import delivery_process as delivery_run

from .conftest import nothing_ingested, only_delivery

pytestmark = pytest.mark.django_db
TRIVY = "trivy/trivy_docs_reporting_alpine_latest.json"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == code and body["detail"]
    return body


def assert_kept_rejected(reason_part: str) -> None:
    delivery = only_delivery()
    assert delivery.status == "rejected" and reason_part in delivery.error
    assert nothing_ingested()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"this is not json", "not JSON"),
        (b'{"SchemaVersion": 2, "Results": [{"Target": "x"', "not JSON"),
        (b"[" * 5000 + b"]" * 5000, "nested deeper"),
        (b'{"ArtifactName": "\xff\xfe"}', "not valid UTF-8"),
        (b"", "empty"),
    ],
    ids=["garbage", "truncated", "deeply-nested", "invalid-utf8", "empty"],
)
def test_undecodable_body_is_400_and_kept_as_rejected(post, body, reason):
    response = post("/api/v1/webhooks/trivy/", body)

    assert_error(response, 400, "invalid_body")
    assert_kept_rejected(reason)


def test_truncated_real_report_is_400(post, fixture_bytes):
    body = fixture_bytes(TRIVY)
    assert_error(post("/api/v1/webhooks/trivy/", body[: len(body) // 2]), 400, "invalid_body")
    assert_kept_rejected("not JSON")


def test_json_of_no_known_format_is_422_and_kept(post):
    response = post("/api/v1/webhooks/auto/", b'{"hello": "world"}')

    assert_error(response, 422, "unknown_format")
    assert_kept_rejected("cannot tell the format")


def test_report_of_another_format_than_the_source_is_422(post, fixture_bytes):
    response = post("/api/v1/webhooks/trivy/", fixture_bytes("aqua/dd_one_vuln.json"))

    assert_error(response, 422, "unknown_format")
    assert_kept_rejected("trivy")


def test_report_naming_no_image_is_422_and_kept(post, fixture_bytes):
    response = post("/api/v1/webhooks/trivy/", fixture_bytes("trivy/trivy_npm_repo.json"))

    assert_error(response, 422, "no_image")
    assert_kept_rejected("names no image")


def test_report_naming_no_image_is_accepted_with_an_image_parameter(post, fixture_bytes):
    response = post(
        "/api/v1/webhooks/trivy/?image=ghcr.io/acme/app:1.0",
        fixture_bytes("trivy/trivy_npm_repo.json"),
    )

    assert response.status_code == 202
    assert only_delivery().image_hint == "ghcr.io/acme/app:1.0"


def test_invalid_image_parameter_is_422(post, fixture_bytes):
    response = post("/api/v1/webhooks/trivy/?image=Not%20An%20Image", fixture_bytes(TRIVY))
    assert_error(response, 422, "no_image")


def test_numbers_beyond_a_float_and_odd_digits_are_accepted_not_a_500(post):
    body = (
        b'{"imageName": "registry.example.com/shop/api:1.0", "findings": ['
        b'{"id": "CVE-2024-1", "package": "openssl", "version": "1", "severity": "\xc2\xb2",'
        b' "cvss": 1' + b"0" * 400 + b"}]}"
    )
    response = post("/api/v1/webhooks/generic/", body)

    assert response.status_code == 202, response.content
    delivery_run(delivery=only_delivery())
    finding = Finding.objects.get()
    assert (finding.severity, finding.cvss_score) == ("unknown", None)


def test_oversize_content_length_is_413_and_not_stored(post, settings, fixture_bytes):
    settings.INGEST_MAX_BYTES = 1000

    response = post("/api/v1/webhooks/trivy/", fixture_bytes(TRIVY))

    assert_error(response, 413, "too_large")
    assert not Delivery.objects.exists()


class EndlessStream(io.RawIOBase):
    """A chunked body that never ends; counts what was read from it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        size = 65536 if size is None or size < 0 else size
        self.read_bytes += size
        return b"[" * size


def test_oversize_stream_without_content_length_stops_reading_at_the_limit(post, settings):
    settings.INGEST_MAX_BYTES = 200_000
    stream = EndlessStream()

    response = post(
        "/api/v1/webhooks/trivy/",
        b"",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": stream, "wsgi.input_terminated": True},
    )

    assert_error(response, 413, "too_large")
    assert stream.read_bytes <= 200_000 + 65536
    assert not Delivery.objects.exists()


def test_chunked_stream_within_the_limit_is_accepted(post, fixture_bytes):
    body = fixture_bytes(TRIVY)
    response = post(
        "/api/v1/webhooks/trivy/",
        b"",
        CONTENT_LENGTH="",
        **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
    )

    assert response.status_code == 202
    assert only_delivery().size == len(body)


def test_chunked_body_on_a_server_that_cannot_stream_is_411(post):
    response = post(
        "/api/v1/webhooks/trivy/", b"", CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked"
    )
    assert_error(response, 411, "length_required")


def test_body_larger_than_djangos_upload_limit_is_no_500(post, settings, fixture_bytes):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    assert post("/api/v1/webhooks/trivy/", fixture_bytes(TRIVY)).status_code == 202


def test_unknown_source_is_404(post):
    assert_error(post("/api/v1/webhooks/nessus/", b"{}"), 404, "unknown_source")
    assert not Delivery.objects.exists()


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_405(client, secret, method):
    response = client.generic(method, "/api/v1/webhooks/trivy/")
    assert_error(response, 405, "method_not_allowed")


def test_url_without_trailing_slash_works(post, fixture_bytes):
    assert post("/api/v1/webhooks/trivy", fixture_bytes(TRIVY)).status_code == 202


@pytest.mark.parametrize(
    ("path", "fixture", "reason"),
    [
        ("/api/v1/webhooks/trivy/", "aqua/dd_one_vuln.json", "trivy"),
        ("/api/v1/webhooks/trivy/", "trivy/trivy_npm_repo.json", "names no image"),
    ],
    ids=["other-format", "no-image"],
)
def test_a_large_unusable_report_is_202_then_rejected_by_the_worker(
    post, fixture_bytes, settings, path, fixture, reason
):
    """Past WEBHOOK_CHECK_MAX_BYTES the report is parsed by the worker, not at post time:
    the rejection shows at the delivery's URL (and in the list, the dashboard, metrics)."""
    settings.WEBHOOK_CHECK_MAX_BYTES = 10
    response = post(path, fixture_bytes(fixture))

    assert response.status_code == 202, response.content
    delivery = only_delivery()
    with pytest.raises(Exception, match=reason):
        delivery_run(delivery=delivery)
    assert_kept_rejected(reason)
