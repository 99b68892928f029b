"""Harbor API paths are built from checked, individually quoted segments: an event
naming '..' (or '.', '', a control character) is refused, and the robot's
credentials never reach a path outside /api/v2.0/projects/."""

from __future__ import annotations

import copy
import json

import pytest

from findings.models import Delivery
from remediator.core.errors import ProviderError
from remediator.intake.store import delivery_store
from remediator.intake.tasks import delivery_process_task
from remediator.integrations.harbor.client import HarborClient, artifact_path

from .test_harbor import ZULIP_DIGEST, harbor_fixture

pytestmark = pytest.mark.django_db
URL = "/api/v1/webhooks/harbor/"


@pytest.fixture
def harbor(httpserver, settings, monkeypatch):
    """Harbor configured against the local fake, which must receive nothing."""
    settings.HARBOR_URL = httpserver.url_for("/").rstrip("/")
    settings.HARBOR_USERNAME = "robot$remediator"
    settings.PROVIDER_RETRIES = 0
    monkeypatch.setenv("HARBOR_PASSWORD", "harbor-pass")
    return httpserver


def event(namespace: str = "test", name: str = "alpine/helm") -> bytes:
    document = copy.deepcopy(json.loads(harbor_fixture("zulip_scanning_completed.json")))
    repository = document["event_data"]["repository"]
    repository.update(namespace=namespace, name=name, repo_full_name=f"{namespace}/{name}")
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("namespace", "name"),
    [("..", "alpine"), (".", "alpine"), ("test", "../../users"), ("test", "a/./b"),
     ("test", "a//b"), ("te\x07st", "alpine"), ("test", "alp\nine")],
)  # fmt: skip
def test_an_event_with_a_dot_segment_is_a_rejected_delivery(post, harbor, namespace, name):
    response = post(URL, event(namespace, name))

    assert response.status_code == 422, response.content
    assert response.json()["error"] == "invalid_event"
    delivery = Delivery.objects.get()
    assert delivery.status == "rejected" and "harbor:" in delivery.error
    assert harbor.log == []


def test_the_worker_refuses_it_too_without_calling_harbor(harbor):
    delivery, _ = delivery_store(
        source="harbor", body=event(".."), content_type="application/json", channel="webhook"
    )

    assert delivery_process_task.apply(args=[delivery.pk]).get() == "rejected"
    delivery.refresh_from_db()
    assert "'..' is not a name" in delivery.error
    assert harbor.log == []


@pytest.mark.parametrize(
    ("project", "repository", "reference"),
    [("..", "a", ZULIP_DIGEST), ("p", "..", ZULIP_DIGEST), ("p", "a", ".."), ("", "a", "x"),
     ("p", "a/../../../users", "x"), ("p/..", "a", "x"), ("p", "a", "x\r\nHost: evil")],
)  # fmt: skip
def test_artifact_paths_refuse_unsafe_segments(project, repository, reference):
    with pytest.raises(ProviderError) as refused:
        artifact_path(project, repository, reference)
    assert refused.value.permanent


def test_artifact_paths_quote_each_segment_and_stay_under_projects():
    path = artifact_path("my project", "alpine/helm", ZULIP_DIGEST)

    assert path == (
        f"/api/v2.0/projects/my%20project/repositories/alpine%252Fhelm/artifacts/{ZULIP_DIGEST}"
    )
    assert artifact_path("p", "%2e%2e", "v1").startswith("/api/v2.0/projects/p/repositories/%25")


def test_the_client_sends_nothing_for_a_refused_path(harbor):
    with pytest.raises(ProviderError):
        HarborClient.from_settings().vulnerability_report("..", "alpine", ZULIP_DIGEST)
    assert harbor.log == []
