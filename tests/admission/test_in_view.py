"""Admission in view: what each stored policy would deny over the stored inventory and
the audit trail of real admission reviews."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from remediator.engine.admission.buffer import BUFFER
from remediator.engine.admission.in_view import (
    admission_in_view,
    admission_in_view_cached,
    policy_build_targets,
)
from remediator.engine.models import AdmissionPolicy, AuditEvent, BuildTarget
from tests.engine.factories import digest, running_row

from .conftest import answer_of, post_review, sample

pytestmark = pytest.mark.django_db


def admit(client, image: str, namespace: str, name: str) -> dict:
    body = sample("pod_alpine_3_10.json")
    body["request"]["uid"] = f"uid-{namespace}-{name}"
    body["request"]["namespace"] = namespace
    body["request"]["name"] = name
    body["request"]["object"]["metadata"]["name"] = name
    body["request"]["object"]["spec"]["containers"][0]["image"] = image
    answer = answer_of(post_review(client, body))
    BUFFER.flush()
    return answer


def test_the_inventory_shows_which_running_containers_a_policy_would_deny(vulnerable):
    AdmissionPolicy.objects.create(name="block-critical", min_severity="critical", enabled=False)
    running_row("shop", "cart", "alpine:3.10")  # by tag: judged by the tag's last scanned digest
    running_row("shop", "cart-2", f"alpine@{digest(310)}")
    running_row("edge", "proxy", "nginx", digest(125))
    running_row("edge", "other", "example.com/never-scanned:1")
    running_row("old", "gone", "alpine:3.10", last_seen=timezone.now() - timedelta(days=30))
    view = admission_in_view()
    assert view.containers == 4
    (shown,) = view.policies
    tally = shown.running
    assert (tally.judged, tally.matched, tally.unknown) == (4, 3, 1)
    assert tally.per_namespace == [("shop", 2), ("edge", 1)]
    assert tally.images == 2
    assert [(h.container.namespace, h.container.name) for h in tally.first] == [
        ("edge", "proxy"),
        ("shop", "cart"),
        ("shop", "cart-2"),
    ]
    assert tally.first[1].vulnerabilities == ("CVE-2024-6119",)


def test_allowed_reviews_of_the_window_are_judged_again_by_today_s_policy(
    client, vulnerable, django_capture_on_commit_callbacks
):
    # no policy yet: every review is allowed (the unknown image with a warning)
    assert answer_of(post_review(client, sample("pod_alpine_3_10.json")))["allowed"]
    BUFFER.flush()
    assert admit(client, "nginx:latest", "edge", "proxy")["allowed"]
    assert admit(client, "alpine:3.10", "shop", "cart")["allowed"]
    assert admit(client, "example.com/never-scanned:1", "shop", "new")["allowed"]
    # a CLI check is no review (allowed, as nothing is enforced yet)
    call_command("admission_check", "alpine:3.10", "--namespace", "ci", stdout=StringIO())
    with django_capture_on_commit_callbacks(execute=True):  # the webhook's cache moves on
        policy = AdmissionPolicy.objects.create(name="block-openssl", package_glob="openssl")
    # a review denied (by today's policy) was no allowance
    assert not admit(client, "alpine:3.10", "shop", "denied")["allowed"]
    assert AuditEvent.objects.filter(kind="admission", to_state="deny").count() == 1
    tally = admission_in_view(policy_ids=[policy.pk]).policies[0].reviews
    assert (tally.judged, tally.matched, tally.unknown) == (4, 2, 1)
    assert tally.per_namespace == [("default", 1), ("shop", 1)]
    assert sorted((h.container.namespace, h.container.reference) for h in tally.first) == [
        ("default", "alpine:3.10"),
        ("shop", "alpine:3.10"),
    ]


def test_reviews_older_than_the_window_are_left_out(client, vulnerable):
    AdmissionPolicy.objects.create(name="warn-critical", min_severity="critical", mode="warn")
    assert admit(client, "alpine:3.10", "shop", "cart")["allowed"]  # warned
    AuditEvent.objects.filter(kind="admission").update(
        created_at=timezone.now() - timedelta(days=10)
    )
    assert admission_in_view(days=7).policies[0].reviews.judged == 0
    assert admission_in_view(days=11).policies[0].reviews.matched == 1


def test_a_cached_answer_is_reused_until_a_policy_changes(vulnerable):
    policy = AdmissionPolicy.objects.create(name="block-critical", min_severity="critical")
    running_row("shop", "cart", "alpine:3.10")
    assert admission_in_view_cached(days=7).policies[0].running.matched == 1
    running_row("shop", "cart-2", "alpine:3.10")
    assert admission_in_view_cached(days=7).policies[0].running.matched == 1  # reused
    assert admission_in_view_cached(days=8).policies[0].running.matched == 2  # another window
    policy.package_glob = "nothing-has-this"
    policy.save()
    assert admission_in_view_cached(days=7).policies[0].running.matched == 0


def test_without_any_admission_policy_nothing_is_judged(vulnerable):
    running_row("shop", "cart", "alpine:3.10")
    view = admission_in_view()
    assert view.policies == [] and view.containers == 0


@pytest.mark.parametrize(
    ("glob", "patterns", "matches"),
    [
        ("", ["docker.io/acme/*"], True),
        ("docker.io/acme/*", ["docker.io/acme/*"], True),
        ("docker.io/acme/api", ["docker.io/acme/*"], True),
        ("*/acme/*", ["docker.io/acme/api"], True),
        ("alpine", ["docker.io/library/alpine"], True),
        ("alpine", ["docker.io/library/*"], True),
        ("alpine", ["docker.io/acme/*"], False),
        ("docker.io/other/*", ["docker.io/acme/*"], False),
    ],
)
def test_the_build_target_a_policy_s_image_glob_overlaps(glob, patterns, matches):
    target = BuildTarget(name="t", provider="gitlab", project="1", image_patterns=patterns)
    assert (policy_build_targets(glob, [target]) == [target]) is matches
