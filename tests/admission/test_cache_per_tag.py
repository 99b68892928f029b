"""An action's change of state moves the admission cache of its tag only: a burst of scans
that opens actions leaves every other image's facts in memory, and the facts that read
the tag's actions (its references, a digest listing its findings) are read again."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from remediator.engine.admission import cache as admission_cache
from remediator.engine.admission.cache import TAG_KEY, admission_facts
from remediator.engine.audit import audit_record
from remediator.engine.models import ActionKind, ActionState, RemediationAction
from tests.engine.factories import digest

from .test_cache_per_image import ALPINE, NGINX, Clock, finding_reads

pytestmark = pytest.mark.django_db
ALPINE_BY_DIGEST = f"docker.io/library/alpine@{digest(310)}"


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock(admission_cache.time.monotonic())
    monkeypatch.setattr(admission_cache.time, "monotonic", clock)
    return clock


def action_opened(tag, capture) -> RemediationAction:
    """A rebuild of ``tag`` proposed, as the policy does, with its audit event."""
    with capture(execute=True):
        action = RemediationAction.objects.create(
            kind=ActionKind.REBUILD,
            state=ActionState.PROPOSED,
            repository=tag.repository,
            tag=tag,
            image=tag.image,
        )
        audit_record(kind="transition", action=action, to_state=ActionState.PROPOSED)
    return action


def test_an_action_of_another_image_leaves_the_facts_cached(
    vulnerable, clock, django_capture_on_commit_callbacks
):
    admission_facts([ALPINE, NGINX])
    action = action_opened(vulnerable["nginx"], django_capture_on_commit_callbacks)
    clock.now += 2  # past the once-a-second check

    reads, _ = finding_reads([ALPINE])
    assert reads == 0

    reads, known = finding_reads([NGINX])
    assert reads >= 1
    assert known[NGINX][0].action.id == action.pk


def test_an_action_of_a_tag_is_seen_by_a_digest_listing_its_findings(
    vulnerable, clock, django_capture_on_commit_callbacks
):
    """alpine@<the digest of alpine:3.10> names another tag (latest), and lists 3.10's
    findings: it is judged with 3.10's actions."""
    vulnerable["action"].delete()
    _, known = admission_facts([ALPINE_BY_DIGEST])
    assert known[ALPINE_BY_DIGEST][0].action is None

    action = action_opened(vulnerable["alpine"], django_capture_on_commit_callbacks)
    clock.now += 2

    reads, known = finding_reads([ALPINE_BY_DIGEST])
    assert reads >= 1
    assert known[ALPINE_BY_DIGEST][0].action.id == action.pk


def test_an_action_changed_in_another_process_is_seen_within_a_second(vulnerable, clock):
    admission_facts([ALPINE_BY_DIGEST])
    # what admission_cache_touch_tag in a worker writes: alpine:3.10 changed just now
    cache.set(TAG_KEY + str(vulnerable["alpine"].pk), time.time())

    reads, _ = finding_reads([ALPINE_BY_DIGEST])
    assert reads == 0  # checked less than a second ago: still from memory

    clock.now += 2
    reads, _ = finding_reads([ALPINE_BY_DIGEST])
    assert reads >= 1


def test_an_action_changed_long_before_the_facts_were_read_does_not_reload_them(vulnerable, clock):
    cache.set(TAG_KEY + str(vulnerable["alpine"].pk), time.time() - 60)
    admission_facts([ALPINE_BY_DIGEST])
    clock.now += 2

    reads, _ = finding_reads([ALPINE_BY_DIGEST])
    assert reads == 0
