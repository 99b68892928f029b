"""Ownership is worked out again when its inputs change: a new repository's first scan,
workloads seen in new namespaces or with new labels (inventory pushes and admission
reviews, their labels captured), rules and teams saved in the admin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import TestCase

from findings.models import Repository, RunningImage
from remediator.cluster.pods import MAX_LABELS, labels_of, pods_running
from remediator.engine.admission.buffer import BUFFER
from remediator.teams.models import OwnershipRule, Team
from tests.admission.conftest import TOKEN, post_review, sample
from tests.engine.factories import ingest, vuln

FIXTURES = Path(__file__).parents[1] / "fixtures"
PODS = FIXTURES / "inventory" / "kubectl_pods_kuard.json"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def admission_settings(settings, monkeypatch):
    settings.ADMISSION_WRITE_DELAY_SECONDS = 0
    settings.ADMISSION_UNKNOWN_IMAGES = "warn"
    settings.ADMISSION_ALLOW_UNAUTHENTICATED = False
    monkeypatch.setenv("ADMISSION_TOKEN", TOKEN)


def push_pods(client) -> None:
    """The inventory push of a real ``kubectl get pods -o json`` (one pod, with labels)."""
    response = client.post(
        "/api/v1/inventory/",
        data=PODS.read_bytes(),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
    )
    assert response.status_code == 200, response.content


@pytest.fixture
def shop(db) -> Team:
    return Team.objects.create(slug="shop", name="Shop")


def test_a_pod_list_s_labels_are_read_and_bad_ones_left_out():
    rows = pods_running(json.loads(PODS.read_text()))
    assert rows[0].labels["app"] == "work-queue"
    assert rows[0].labels["component"] == "queue"
    meta = {"labels": {"ok": "yes", "long": "v" * 64, "ctl": "a\x00b", 5: "x", "n": 1}}
    assert labels_of(meta) == {"ok": "yes"}
    many = {"labels": {f"k{i:03}": "v" for i in range(200)}}
    assert len(labels_of(many)) == MAX_LABELS
    assert labels_of({"labels": {"team": "a"}}, {"labels": {"team": "b"}}) == {"team": "b"}


def evaluated(*args, **kwargs):
    """A scan ingested and evaluated (its on-commit work run here)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return ingest(*args, **kwargs)


def test_a_new_repository_gets_its_owner_when_its_first_scan_is_evaluated(shop, eager):
    OwnershipRule.objects.create(team=shop, image_glob="registry.example.com/shop/*")
    scan = evaluated(vuln("CVE-2024-6119"), image="registry.example.com/shop/cart", digest_no=1)
    repository = Repository.objects.get(pk=scan.image.repository_id)
    assert repository.owner == shop
    assert repository.owner_reason == "rule 100: image registry.example.com/shop/*"
    other = evaluated(vuln("CVE-2024-6119"), image="registry.example.com/web/app", digest_no=2)
    assert Repository.objects.get(pk=other.image.repository_id).owner is None


def test_an_inventory_push_captures_labels_and_a_label_rule_gives_the_owner(
    client,
    shop,
    eager,
    django_capture_on_commit_callbacks,
):
    OwnershipRule.objects.create(team=shop, label_key="app", label_value="work-queue")
    scan = ingest(vuln("CVE-2024-6119"), image="gcr.io/kuar-demo/kuard-amd64", tag="1")
    repository = Repository.objects.get(pk=scan.image.repository_id)
    assert repository.owner is None  # not seen running yet

    with django_capture_on_commit_callbacks(execute=True):
        push_pods(client)

    row = RunningImage.objects.get()
    assert row.labels["app"] == "work-queue"
    repository.refresh_from_db()
    assert repository.owner == shop
    assert repository.owner_reason == "rule 100: label app=work-queue"


def test_a_push_that_shows_nothing_new_refreshes_nobody(
    client,
    shop,
    eager,
    django_capture_on_commit_callbacks,
):
    OwnershipRule.objects.create(team=shop, namespace_glob="default")
    ingest(vuln("CVE-2024-6119"), image="gcr.io/kuar-demo/kuard-amd64", tag="1")
    with django_capture_on_commit_callbacks(execute=True) as first:
        push_pods(client)
    with django_capture_on_commit_callbacks(execute=True) as again:
        push_pods(client)
    assert len(first) >= 1
    assert len(again) == 0  # the same namespace and labels: no refresh queued


def test_an_admission_review_records_the_workload_labels_and_the_owner_follows(
    client,
    shop,
    eager,
    django_capture_on_commit_callbacks,
):
    OwnershipRule.objects.create(team=shop, label_key="run", label_value="debug", order=5)
    OwnershipRule.objects.create(
        team=Team.objects.create(slug="late", name="Late"), image_glob="alpine", order=50
    )
    evaluated(vuln("CVE-2024-6119"), image="alpine", tag="3.10", digest_no=310)
    repository = Repository.objects.get(name="library/alpine")
    assert repository.owner.slug == "late"  # the image rule; the label not seen yet

    with django_capture_on_commit_callbacks(execute=True):
        post_review(client, sample("pod_alpine_3_10.json"))
        BUFFER.flush()

    assert RunningImage.objects.get().labels == {"run": "debug"}
    repository.refresh_from_db()
    assert (repository.owner, repository.owner_reason) == (shop, "rule 5: label run=debug")


def test_saving_a_team_s_rules_in_the_admin_works_out_owners_again(
    client,
    shop,
    eager,
    django_capture_on_commit_callbacks,
):
    scan = ingest(vuln("CVE-2024-6119"), image="registry.example.com/pay/api", digest_no=3)
    repository = Repository.objects.get(pk=scan.image.repository_id)
    assert repository.owner is None
    client.force_login(get_user_model().objects.create_superuser("root", "r@example.com", "x"))
    form = {
        "slug": "shop",
        "name": "Shop",
        "description": "",
        "sso_groups": "[]",
        "notify_email": "[]",
        "slack_webhook_env": "",
        "ownership_rules-TOTAL_FORMS": "1",
        "ownership_rules-INITIAL_FORMS": "0",
        "ownership_rules-0-order": "10",
        "ownership_rules-0-image_glob": "registry.example.com/pay/*",
        "ownership_rules-0-repositories": "[]",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/teams/team/{shop.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    repository.refresh_from_db()
    assert repository.owner == shop
