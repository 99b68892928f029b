"""No input makes the webhook answer 5xx; every refusal is JSON naming the problem."""

from __future__ import annotations

import pytest

from .conftest import TOKEN, URL, answer_of, post_review, sample

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (b"", "invalid_body", "empty"),
        (b"{not json", "invalid_json", "not JSON"),
        (b"[1, 2]", "invalid_review", "JSON object"),
        (b'{"apiVersion": "v1", "kind": "Pod"}', "invalid_review", "apiVersion"),
        (b'{"apiVersion": "admission.k8s.io/v1", "kind": "Pod"}', "invalid_review", "kind"),
        (
            b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}',
            "invalid_review",
            "request",
        ),
        (
            b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {}}',
            "invalid_review",
            "request.uid",
        ),
        (b'"\\ud800"', "invalid_json", "not JSON"),
    ],
)
def test_malformed_reviews_get_400_naming_the_problem(client, body, code, words):
    response = post_review(client, body)
    assert response.status_code == 400
    assert response.json()["error"] == code and words in response.json()["detail"]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: r["request"].update(object="a string"),
        lambda r: r["request"]["object"].update(spec=[1]),
        lambda r: r["request"]["object"]["spec"].update(containers={"a": 1}),
        lambda r: r["request"]["object"]["spec"]["containers"].append({"image": 5}),
        lambda r: r["request"]["object"]["spec"]["containers"].append({"image": "::bad::"}),
        lambda r: r["request"]["object"]["metadata"].update(annotations=["x"]),
        lambda r: r["request"]["object"]["metadata"].update(ownerReferences="x"),
        lambda r: r["request"].update(namespace=7, userInfo=None, kind="Pod"),
    ],
)
def test_a_well_formed_review_with_odd_fields_still_gets_a_well_formed_answer(client, mutate):
    body = sample("pod_alpine_3_10.json")
    mutate(body)
    answer = answer_of(post_review(client, body))
    assert answer["uid"] == body["request"]["uid"]


def test_without_the_token_the_webhook_answers_401(client):
    response = post_review(client, sample("pod_alpine_3_10.json"), token="")
    assert response.status_code == 401 and "ADMISSION_TOKEN" in response.json()["detail"]
    assert post_review(client, sample("pod_alpine_3_10.json"), token="wrong").status_code == 401


def test_with_no_token_configured_it_refuses_unless_told_a_proxy_checks(
    client, monkeypatch, settings
):
    monkeypatch.delenv("ADMISSION_TOKEN")
    assert post_review(client, sample("pod_alpine_3_10.json"), token="").status_code == 403
    settings.ADMISSION_ALLOW_UNAUTHENTICATED = True
    assert answer_of(post_review(client, sample("pod_alpine_3_10.json"), token=""))["allowed"]


def test_oversized_bodies_and_other_methods_are_refused(client, settings):
    settings.ADMISSION_MAX_BYTES = 100
    response = post_review(client, sample("pod_alpine_3_10.json"))
    assert response.status_code == 413 and response.json()["error"] == "too_large"
    assert client.get(URL).status_code == 405


def test_the_admission_token_is_redacted_from_logs():
    from remediator.core.redact import redact_text

    assert TOKEN not in redact_text(f"Authorization: Bearer {TOKEN} sent")
