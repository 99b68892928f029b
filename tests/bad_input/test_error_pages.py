"""Under /api/ every error is JSON ({"error", "detail"}); pages keep their HTML."""

from __future__ import annotations

import pytest
from django.test import Client

from remediator.api.views.findings import FindingListApi

pytestmark = pytest.mark.django_db


def test_a_crash_in_an_api_view_answers_json_500(api, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(FindingListApi, "get", crash)
    api.raise_request_exception = False

    response = api.get("/api/v1/findings/")

    assert response.status_code == 500
    assert response.json() == {
        "error": "server_error",
        "detail": "the server failed; the error is logged",
    }


def test_a_non_numeric_id_answers_json_404(api):
    response = api.get("/api/v1/scans/latest/")

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_a_page_that_does_not_exist_stays_html(client: Client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_malformed_host_under_api_answers_json_400(client: Client):
    response = client.get("/api/v1/findings/", HTTP_HOST="bad host!")

    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
