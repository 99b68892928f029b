"""A secret in the query string is refused (and never repeated): query strings end up in
proxy and access logs."""

from __future__ import annotations

import pytest

from findings.models import Delivery

pytestmark = pytest.mark.django_db
BODY = b'{"SchemaVersion": 2, "ArtifactName": "alpine:3.19", "Results": []}'


@pytest.mark.parametrize(
    "query",
    [
        "secret={s}",
        "token={s}",
        "WEBHOOK_SECRET={s}",
        "%73ecret={s}",
        "access-token=anything",
        "image={s}",  # a configured secret under any name
        "image=alpine&x={s}",
    ],
)
def test_a_secret_in_the_query_string_is_refused_before_anything_is_stored(post, secret, query):
    response = post(f"/api/v1/webhooks/trivy/?{query.format(s=secret)}", BODY)

    assert response.status_code == 400
    assert response.json()["error"] == "secret_in_query"
    assert secret not in response.content.decode()
    assert not Delivery.objects.exists()


def test_an_ordinary_query_is_accepted(post):
    assert post("/api/v1/webhooks/trivy/?image=alpine:3.19", BODY).status_code == 202
