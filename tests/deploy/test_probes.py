"""``/healthz`` and ``/readyz`` answer a probe that calls the process by its address."""

from __future__ import annotations

import pytest
from django.test import Client

POD_HOSTS = ["10.1.2.3:8000", "[fd00::7]:8000", "172.17.0.5", "remediator-web.svc:8000"]


@pytest.fixture(autouse=True)
def spool(settings, tmp_path):
    settings.WEBHOOK_SPOOL_DIR = tmp_path / "spool"
    settings.ALLOWED_HOSTS = ["remediator.example.com"]


@pytest.mark.parametrize("host", POD_HOSTS)
def test_healthz_answers_whatever_the_host(client: Client, host):
    response = client.get("/healthz", HTTP_HOST=host)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("host", POD_HOSTS[:2])
def test_readyz_answers_whatever_the_host(client: Client, host):
    response = client.get("/readyz", HTTP_HOST=host)

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ready"
    assert set(response.json()["checks"]) == {"database", "broker", "spool"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/", "/healthz/", "/readyz/", "/metrics", "/api/v1/findings/", "/admin/"]
)
def test_every_other_path_still_refuses_a_host_not_allowed(client: Client, path):
    assert client.get(path, HTTP_HOST="10.1.2.3:8000").status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["head", "post", "options"])
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_other_methods_on_the_probe_paths_take_the_normal_route(client: Client, method, path):
    refused = getattr(client, method)(path, HTTP_HOST="10.1.2.3:8000")
    allowed = getattr(client, method)(path, HTTP_HOST="remediator.example.com")

    assert refused.status_code == 400
    assert allowed.status_code != 400


def test_the_probe_paths_still_answer_an_allowed_host(client: Client):
    response = client.get("/healthz", HTTP_HOST="remediator.example.com")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
