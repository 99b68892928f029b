"""Bodies past WEBHOOK_CHECK_MAX_BYTES: answered once authenticated, within size, stored
and their JSON syntax checked; the report itself is decoded by the worker only."""

from __future__ import annotations

import pytest

from findings.models import Delivery, Finding
from remediator.intake import outline
from remediator.intake.receive import delivery_process as delivery_run

from .conftest import only_delivery
from .test_harbor import URL as HARBOR_URL
from .test_harbor import harbor_fixture

pytestmark = pytest.mark.django_db
TRIVY = "trivy/trivy_docs_reporting_alpine_latest.json"


@pytest.fixture
def large(settings):
    settings.WEBHOOK_CHECK_MAX_BYTES = 10


@pytest.fixture
def decodes(monkeypatch) -> list[int]:
    """The sizes of the bodies decoded whole at post time."""
    seen: list[int] = []
    real = outline.load_body

    def counting(source, body):
        seen.append(len(body))
        return real(source, body)

    monkeypatch.setattr(outline, "load_body", counting)
    return seen


def test_a_large_report_is_stored_and_queued_undecoded_then_ingested(
    post, fixture_bytes, large, decodes
):
    response = post("/api/v1/webhooks/trivy/", fixture_bytes(TRIVY))

    assert response.status_code == 202, response.content
    assert decodes == []
    delivery_run(delivery=only_delivery())
    assert only_delivery().status == "processed" and Finding.objects.exists()


@pytest.mark.parametrize(
    "cut", [lambda b: b[: len(b) // 2], lambda b: b + b"}", lambda b: b.replace(b":", b";", 1)]
)
def test_a_large_body_that_is_not_json_is_still_400_and_kept(post, fixture_bytes, large, cut):
    response = post("/api/v1/webhooks/trivy/", cut(fixture_bytes(TRIVY)))

    assert response.status_code == 400 and response.json()["error"] == "invalid_body"
    delivery = only_delivery()
    assert delivery.status == "rejected" and "not JSON" in delivery.error


def test_a_large_body_with_a_byte_order_mark_is_decoded_whole_and_accepted(
    post, fixture_bytes, large, decodes
):
    body = b"\xef\xbb\xbf" + fixture_bytes(TRIVY)

    assert post("/api/v1/webhooks/trivy/", body).status_code == 202
    assert decodes == [len(body)]


def test_invalid_utf8_inside_a_large_report_is_still_400_and_kept(post, fixture_bytes, large):
    body = fixture_bytes(TRIVY).replace(b'"ArtifactName": "', b'"ArtifactName": "\xff', 1)

    response = post("/api/v1/webhooks/trivy/", body)

    assert response.status_code == 400 and response.json()["error"] == "invalid_body"
    delivery = only_delivery()
    assert delivery.status == "rejected" and "not valid UTF-8" in delivery.error
    assert delivery.body == body


def test_a_large_non_ascii_report_in_utf8_is_not_decoded_at_post_time(
    post, fixture_bytes, large, decodes
):
    body = fixture_bytes(TRIVY).replace(b'"ArtifactName": "', '"ArtifactName": "é'.encode(), 1)

    assert post("/api/v1/webhooks/trivy/", body).status_code == 202
    assert decodes == []


def test_a_large_harbor_event_is_still_read_at_post_time(post, large, decodes):
    body = harbor_fixture("zulip_scanning_failed.json")

    response = post(HARBOR_URL, body)

    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert decodes == [len(body)]
    assert Delivery.objects.get().status == "ignored"


@pytest.mark.parametrize(
    ("body", "plain"),
    [
        (b'{"Results": [{"Target": "x"}]}', True),
        (b'{"specversion": "1.0", "id": "x"}', False),
        (b'{"type": "SCANNING_FAILED", "event_data": {}}', False),
        (b"[1, 2]", False),
        (b'{"a": [1, 2,]}', False),
        (b"\xef\xbb\xbf{}", False),
        (b"a: 1\n", False),
    ],
    ids=["report", "cloudevent", "harbor-event", "array", "trailing-comma", "bom", "yaml"],
)
def test_only_plain_json_objects_are_left_undecoded(body, plain):
    assert outline.is_plain_json_object(body) is plain
