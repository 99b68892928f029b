"""Class 9: the work one caller controls is bounded. A review past ADMISSION_MAX_CONTAINERS
or ADMISSION_MAX_IMAGES is denied unjudged, at once; lookups stop at
ADMISSION_DEADLINE_SECONDS and the rest are answered as unknown images (audited);
backtests are cached, one per user and BACKTEST_MAX_RUNNING in all (429 past it) over at
most BACKTEST_MAX_DAYS; an inventory push of 1,200 repositories is one bound parameter
per lookup (SQLite has no "too many variables" outage), past INVENTORY_MAX_PODS a 413;
the admission webhook has its own pool in the Helm chart. Under load from the other
routes: tests/faults/test_admission_under_load.py."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from findings.models import Repository, RunningImage
from remediator.engine.admission.buffer import BUFFER
from remediator.engine.models import Policy
from remediator.engine.services.backtest_guard import backtest_slot
from tests.dashboard.conftest import make_user
from tests.engine.factories import digest, ingest, vuln

from ._admission_support import (  # noqa: F401 (fixtures)
    FIXED,
    TOKEN,
    admission_event,
    admission_settings,
    answer_of,
    post_review,
    sample,
    shop,
)

pytestmark = pytest.mark.django_db


def _unjudged(reason: str) -> float:
    labels = {"reason": reason}
    return REGISTRY.get_sample_value("remediator_admission_unjudged_total", labels) or 0.0


def many_containers(count: int, distinct: int) -> dict:
    """The rollout's Deployment update with ``count`` containers over ``distinct`` images."""
    body = sample("update_deployment_to_fixed_image.json")
    spec = body["request"]["object"]["spec"]["template"]["spec"]
    spec["containers"] = [
        {
            "name": f"c{n}",
            "image": f"registry.example.com/pad/img{n % distinct}@{digest(n % distinct + 100)}",
        }
        for n in range(count)
    ]
    return body


@pytest.mark.usefixtures("shop")
def test_a_review_with_thousands_of_containers_is_denied_unjudged_without_a_query(
    client, settings, django_assert_num_queries
):
    settings.ADMISSION_WRITE_DELAY_SECONDS = 3600  # the audit write happens later
    before = _unjudged("cap")
    body = many_containers(5000, 5000)
    with django_assert_num_queries(0):
        answer = answer_of(post_review(client, body))
    assert answer["allowed"] is False
    assert (
        "5000 containers, more than ADMISSION_MAX_CONTAINERS (100)" in answer["status"]["message"]
    )
    assert _unjudged("cap") == before + 1
    BUFFER.flush()
    assert admission_event().data["unjudged"] == "cap"


@pytest.mark.usefixtures("shop")
def test_too_many_distinct_images_are_denied_naming_the_setting(client, settings):
    settings.ADMISSION_MAX_IMAGES = 20
    answer = answer_of(post_review(client, many_containers(60, 30)))
    assert answer["allowed"] is False
    assert (
        "introduces 30 distinct images, more than ADMISSION_MAX_IMAGES (20)"
        in (answer["status"]["message"])
    )
    assert admission_event().data["unjudged"] == "cap"
    assert answer_of(post_review(client, many_containers(60, 20)))["status"]["code"] == 403
    # (20 images are judged: every one of them never scanned, denied as unknown)


@pytest.mark.parametrize(("mode", "allowed"), [("deny", False), ("warn", True), ("allow", True)])
@pytest.mark.usefixtures("shop")
def test_past_the_deadline_images_are_answered_as_unknown_and_audited(
    client, settings, mode, allowed
):
    settings.ADMISSION_UNKNOWN_IMAGES = mode
    settings.ADMISSION_DEADLINE_SECONDS = 1e-9  # over before the first lookup
    before = _unjudged("deadline")
    answer = answer_of(post_review(client, sample("update_deployment_to_fixed_image.json")))
    assert answer["allowed"] is allowed
    texts = [answer.get("status", {}).get("message", ""), *answer.get("warnings", [])]
    if mode != "allow":
        assert any("ADMISSION_DEADLINE_SECONDS" in text for text in texts)
    event = admission_event()
    assert event.data["unjudged"] == "deadline"
    assert event.data["images"][0]["verdict"] == f"unknown:{mode}"
    assert _unjudged("deadline") == before + 1


@pytest.mark.usefixtures("shop")
def test_within_the_deadline_the_same_review_is_judged(client):
    answer = answer_of(post_review(client, sample("update_deployment_to_fixed_image.json")))
    assert answer == {"uid": "7cd3d1af-ce93-44f5-abb8-e3af9a8c7b08", "allowed": True}
    assert admission_event().data["unjudged"] == ""


# --- backtests ---------------------------------------------------------------------------


@pytest.fixture
def policy(db):
    ingest(vuln("CVE-2024-0001"), image="registry.example.com/acme/api", tag="1", digest_no=1)
    return Policy.objects.create(name="rebuild-criticals", min_severity="critical")


def viewer(name: str) -> APIClient:
    api = APIClient()
    api.force_authenticate(make_user(name, "Viewer"))
    return api


def test_the_same_backtest_again_is_answered_from_the_cache(policy, django_assert_max_num_queries):
    api = viewer("vera")
    url = f"/api/v1/policies/{policy.pk}/backtest/?days=60"
    first = api.get(url)
    assert first.status_code == 200 and first.json()["simulated"]["scans"] == 1
    with django_assert_max_num_queries(6):  # auth, the policy, the cache: no replay
        again = api.get(url)
    assert again.json() == first.json()
    other = api.get(f"/api/v1/policies/{policy.pk}/backtest/?days=61")
    assert other.json()["days"] == 61  # another window: replayed


def test_one_backtest_per_user_and_a_bounded_number_in_all(policy, settings):
    settings.BACKTEST_MAX_RUNNING = 1
    url = f"/api/v1/policies/{policy.pk}/backtest/?days=30"
    vera, walt = make_user("vera", "Viewer"), make_user("walt", "Viewer")
    api = APIClient()
    api.force_authenticate(vera)
    with backtest_slot(str(vera.pk)):  # vera's first backtest is still running
        own = api.get(url)
        assert own.status_code == 429 and own.json()["error"] == "too_many_backtests"
        assert "you have a backtest running" in own.json()["detail"]
        assert own["Retry-After"] == "30"
        api.force_authenticate(walt)
        full = api.get(url)
        assert full.status_code == 429 and "BACKTEST_MAX_RUNNING" in full.json()["detail"]
    assert api.get(url).status_code == 200  # the slot is free again


def test_the_page_says_when_no_backtest_slot_is_free(client, policy, settings):
    settings.BACKTEST_MAX_RUNNING = 1
    user = make_user("vera", "Viewer")
    client.force_login(user)
    with backtest_slot("someone-else"):
        page = client.get("/policies/?days=30")
    assert page.status_code == 429 and page.context["backtest"] is None
    assert "BACKTEST_MAX_RUNNING" in page.content.decode()


def test_the_window_is_bounded(client, policy, settings):
    api = viewer("vera")
    answer = api.get(f"/api/v1/policies/{policy.pk}/backtest/?days=365")
    assert answer.status_code == 400 and "from 1 to 90" in answer.json()["detail"]
    settings.BACKTEST_MAX_DAYS = 400 // 2
    assert api.get(f"/api/v1/policies/{policy.pk}/backtest/?days=200").status_code == 200
    client.force_login(make_user("walt", "Viewer"))
    page = client.get("/policies/?days=201")
    assert page.context["backtest"] is None and page.context["backtest_form"].errors["days"]


# --- inventory ---------------------------------------------------------------------------


def pod_list(pods: int, repositories: int) -> dict:
    """``kubectl get pods -A -o json`` of ``pods`` pods over ``repositories`` images."""
    return {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": f"web-{n}", "namespace": f"team-{n % 40}"},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": f"registry.example.com/fleet/svc-{n % repositories}:1",
                        }
                    ]
                },
                "status": {
                    "containerStatuses": [
                        {
                            "name": "app",
                            "imageID": f"registry.example.com/fleet/svc-{n % repositories}"
                            f"@{digest(n % repositories + 1)}",
                        }
                    ]
                },
            }
            for n in range(pods)
        ],
        "metadata": {"resourceVersion": ""},
    }


def test_a_push_of_1200_repositories_is_recorded_not_answered_unavailable(client):
    for n in range(1200):  # they are all known: every lookup finds something
        Repository.objects.create(registry="registry.example.com", name=f"fleet/svc-{n}")
    response = client.post(
        "/api/v1/inventory/?cluster=big",
        data=json.dumps(pod_list(1200, 1200)),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
    )
    assert response.status_code == 200, response.content[:300]
    assert response.json() == {"cluster": "big", "containers": 1200, "refused": 0}
    assert RunningImage.objects.filter(repository__isnull=False).count() == 1200


def test_the_cli_records_1200_repositories_too(tmp_path):
    path = tmp_path / "pods.json"
    path.write_text(json.dumps(pod_list(1200, 1200)))
    out = StringIO()
    call_command("inventory_import", str(path), "--cluster", "big", stdout=out)
    assert json.loads(out.getvalue()) == {"cluster": "big", "containers": 1200, "refused": 0}


def test_past_inventory_max_pods_the_push_is_refused_and_nothing_changes(client, settings):
    settings.INVENTORY_MAX_PODS = 50
    response = client.post(
        "/api/v1/inventory/",
        data=json.dumps(pod_list(51, 3)),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
    )
    assert response.status_code == 413 and response.json()["error"] == "too_many_pods"
    assert "51 pods, more than INVENTORY_MAX_PODS (50)" in response.json()["detail"]
    assert not RunningImage.objects.exists()


# --- the admission webhook's own pool (and in the Helm chart: tests/admission/
# test_deploy_manifests.py) ----------------------------------------------------------------


def test_the_procfile_says_how_to_give_admission_its_own_pool_on_one_machine():
    lines = (Path(__file__).resolve().parents[2] / "Procfile").read_text().splitlines()
    (line,) = [line for line in lines if line.startswith("# admission: ")]
    assert "gunicorn" in line and "ADMISSION_PORT" in line
