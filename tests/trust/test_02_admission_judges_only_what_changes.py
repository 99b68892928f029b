"""Class 2: admission follows Kubernetes semantics. An UPDATE is judged only on the
images it introduces (a reference the old object did not have in that container field);
DELETE and CONNECT are always admitted; a rollout *to* the fixed image goes through while
the vulnerable pods it replaces scale down. Reviews: tests/fixtures/admission/."""

from __future__ import annotations

import pytest

from remediator.engine.models import AuditEvent

from ._admission_support import (  # noqa: F401 (fixtures)
    DEBUG,
    FIXED,
    VULNERABLE,
    admission_event,
    admission_settings,
    answer_of,
    post_review,
    sample,
    shop,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop")]

NOTHING_NEW = [
    "update_replicaset_scale_down.json",
    "update_replicaset_scale_subresource.json",
    "update_pod_finalizer_removed.json",
    "update_pod_status.json",
    "update_deployment_labels_only.json",
    "update_deployment_containers_reordered.json",
    "delete_pod.json",
    "connect_pod_exec.json",
]


@pytest.mark.parametrize("name", NOTHING_NEW)
def test_a_request_that_brings_no_new_image_is_admitted_without_judging_old_ones(client, name):
    body = sample(name)
    answer = answer_of(post_review(client, body))
    assert answer == {"uid": body["request"]["uid"], "allowed": True}
    event = admission_event()
    assert event.to_state == "allow"
    assert event.data["judged"] == 0 and event.data["images"] == []
    assert event.data["operation"] == body["request"]["operation"]


def test_the_same_pods_created_anew_would_be_denied(client):
    """The control: what the updates above leave alone is vulnerable."""
    body = sample("update_pod_finalizer_removed.json")
    body["request"].update(operation="CREATE", oldObject=None)
    answer = answer_of(post_review(client, body))
    assert answer["allowed"] is False and "CVE-2024-6119 (critical)" in answer["status"]["message"]


def test_kubectl_debug_with_a_clean_image_on_a_vulnerable_pod_is_admitted(client):
    body = sample("update_pod_ephemeral_debug.json")
    assert answer_of(post_review(client, body)) == {"uid": body["request"]["uid"], "allowed": True}
    event = admission_event()
    assert event.data["judged"] == 1 and event.data["unchanged"] == 1
    assert [(i["container"], i["image"], i["verdict"]) for i in event.data["images"]] == [
        ("debugger-q8vfh", DEBUG, "allow")
    ]


def test_kubectl_debug_with_a_vulnerable_image_is_denied(client):
    body = sample("update_pod_ephemeral_debug.json")
    body["request"]["object"]["spec"]["ephemeralContainers"][0]["image"] = VULNERABLE
    answer = answer_of(post_review(client, body))
    assert answer["allowed"] is False
    assert "container debugger-q8vfh" in answer["status"]["message"]


def test_an_update_that_adds_a_vulnerable_sidecar_is_denied_naming_only_it(client):
    body = sample("update_deployment_adds_vulnerable_sidecar.json")
    answer = answer_of(post_review(client, body))
    assert answer["allowed"] is False
    message = answer["status"]["message"]
    assert "container metrics" in message and "container api" not in message
    assert admission_event().data["judged"] == 1


def test_a_rollout_to_the_fixed_image_goes_through_while_the_old_pods_scale_down(client):
    steps = [
        "update_deployment_to_fixed_image.json",  # kubectl set image …@<fixed digest>
        "create_replicaset_rollout_fixed.json",  # the new ReplicaSet, fixed digest
        "update_replicaset_scale_down.json",  # the old one, vulnerable, scaled down
        "update_replicaset_scale_subresource.json",  # and to zero through /scale
        "delete_pod.json",  # its pods go
    ]
    for name in steps:
        answer = answer_of(post_review(client, sample(name)))
        assert answer["allowed"] is True, (name, answer)
        assert "warnings" not in answer, (name, answer)
    judged = [
        (e.data["operation"], [i["image"] for i in e.data["images"]])
        for e in AuditEvent.objects.filter(kind="admission").order_by("id")
    ]
    assert judged == [
        ("UPDATE", [FIXED]),
        ("CREATE", [FIXED]),
        ("UPDATE", []),
        ("UPDATE", []),
        ("DELETE", []),
    ]


def test_a_changed_reference_is_judged_even_when_it_names_the_same_repository(client):
    body = sample("update_deployment_to_fixed_image.json")
    spec = body["request"]["object"]["spec"]["template"]["spec"]
    spec["containers"][0]["image"] = "registry.example.com/shop/api:never-scanned"
    answer = answer_of(post_review(client, body))
    assert answer["allowed"] is False and "never scanned" in answer["status"]["message"]


def test_an_update_without_an_old_object_is_judged_whole(client):
    body = sample("update_pod_finalizer_removed.json")
    body["request"]["oldObject"] = None
    assert answer_of(post_review(client, body))["allowed"] is False


def test_delete_and_connect_need_no_object(client):
    for name in ("delete_pod.json", "connect_pod_exec.json"):
        body = sample(name)
        body["request"].pop("object")
        body["request"].pop("oldObject")
        assert answer_of(post_review(client, body))["allowed"] is True
