"""The whole Django log of a webhook -> approval -> GitLab pipeline flow, with secrets in
webhook paths (several spellings, right and wrong), in query strings and in a failing
provider call, holds none of the secrets."""

from __future__ import annotations

import logging
from urllib.parse import quote, unquote

import pytest
from rest_framework.test import APIClient

from remediator.engine.models import BuildTarget
from remediator.integrations.providers import provider_for

from .conftest import GITLAB_API_TOKEN, GITLAB_TRIGGER_TOKEN
from .test_end_to_end import HOOK_SECRET, rebuild_until_succeeded

WRONG = "a-wrong-Guess-9"


def spellings(secret: str) -> list[str]:
    full = "".join(f"%{ord(c):02X}" for c in secret)
    return [
        secret,
        secret[:-1] + f"%{ord(secret[-1]):02x}",
        full,
        full.lower(),
        quote(full, safe=""),
    ]


def post_everywhere() -> list[int]:
    client = APIClient()
    statuses = []
    for secret in (HOOK_SECRET, WRONG):
        for spelled in spellings(secret):
            for path in (
                f"/api/v1/webhooks/generic/{spelled}/",
                f"/api/v1/webhooks/generic/{spelled}",
                f"/api/v1/webhooks/nosuch/{spelled}/",
                f"/api/v1//webhooks/generic/{spelled}/",
                f"/api/v1/webhooks/generic/?secret={spelled}",
                f"/api/v1/webhooks/generic/?image={spelled}",
            ):
                response = client.post(path, data=b"{}", content_type="application/json")
                statuses.append(response.status_code)
    return statuses


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_no_secret_reaches_the_django_log(
    celery_live_worker, people, gitlab, httpserver, monkeypatch, caplog
):
    monkeypatch.setenv("WEBHOOK_SECRET_GENERIC", HOOK_SECRET)
    caplog.set_level(logging.DEBUG)

    rebuild_until_succeeded(people, httpserver)
    statuses = post_everywhere()
    httpserver.clear()
    httpserver.expect_request("/api/v4/projects/42").respond_with_data("no", status=403)
    logging.getLogger("remediator").warning(
        "ping: %s", provider_for(BuildTarget.objects.get(pk=gitlab.pk)).ping()
    )

    assert {400, 401, 404, 422} <= set(statuses)
    assert "answered 403" in caplog.text
    text = "\n".join(logging.Formatter().format(record) for record in caplog.records)
    assert "Unauthorized: /api/v1/webhooks/generic/<secret>/" in text  # the log is there
    decoded = unquote(unquote(unquote(text)))
    for secret in (HOOK_SECRET, WRONG, GITLAB_TRIGGER_TOKEN, GITLAB_API_TOKEN):
        assert secret not in text and secret not in decoded, secret
        assert secret.lower() not in decoded.lower(), secret
