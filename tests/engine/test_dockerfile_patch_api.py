"""GET/POST /api/v1/actions/<id>/dockerfile-patch/: the patch for an action's findings."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from remediator.engine.models import Policy
from remediator.engine.services import scan_evaluate

from .factories import ingest, vuln

pytestmark = pytest.mark.django_db

ALPINE_DOCKERFILE = 'FROM alpine:3.20\nRUN apk add --no-cache openssl\nCMD ["sh"]\n'


@pytest.fixture
def action(people, gitlab):
    Policy.objects.update(owner=people["alice"])
    [rebuild] = scan_evaluate(scan_id=ingest(vuln(), tag="1.4").pk)
    return rebuild


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_patch_uses_the_build_targets_dockerfile(action, gitlab, people):
    gitlab.dockerfile = ALPINE_DOCKERFILE
    gitlab.save()

    answer = client_for(people["vera"]).get(f"/api/v1/actions/{action.pk}/dockerfile-patch/")

    assert answer.status_code == 200
    body = answer.json()
    assert body["dockerfile_source"] == "build_target"
    assert "openssl" in body["diff"] and "3.3.2-r0" in body["diff"]
    assert body["diff"].startswith("--- a/Dockerfile")


def test_a_posted_dockerfile_is_patched_instead(action, gitlab, people):
    gitlab.dockerfile = "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n"
    gitlab.save()
    answer = client_for(people["vera"]).post(
        f"/api/v1/actions/{action.pk}/dockerfile-patch/",
        {"dockerfile": "FROM alpine:3.20\n"},
        format="json",
    )

    assert answer.status_code == 200
    assert answer.json()["dockerfile_source"] == "request"
    assert "openssl" in answer.json()["diff"]
    assert "apt-get" not in answer.json()["diff"]


def test_no_dockerfile_anywhere_is_a_422_naming_the_problem(action, people):
    answer = client_for(people["vera"]).get(f"/api/v1/actions/{action.pk}/dockerfile-patch/")

    assert answer.status_code == 422
    assert answer.json()["error"] == "no_dockerfile"
    assert "POST one" in answer.json()["detail"]


def test_unknown_action_is_404_and_anonymous_is_refused(people):
    url = "/api/v1/actions/999/dockerfile-patch/"
    assert client_for(people["vera"]).get(url).status_code == 404
    assert APIClient().get(url).status_code in (401, 403)
