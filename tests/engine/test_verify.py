"""The closed loop: the next scan of the rebuilt image decides whether the action worked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from findings.models import Finding
from remediator.core.errors import ProviderError
from remediator.engine.models import ActionState, AuditEvent, RemediationAction
from remediator.engine.services import (
    action_dispatch,
    action_poll,
    action_retry,
    action_transition,
    scan_evaluate,
)
from remediator.engine.services.verify import verify_overdue
from remediator.engine.tasks import action_dispatch_task

from .conftest import aqua_calls, pipeline
from .factories import ingest, vuln

S = ActionState
pytestmark = pytest.mark.django_db
AQUA_IMAGE = {"registry": "registry.example.com", "repository": "acme/api", "tag": "1.4"}


def rebuild_in(state_path: tuple[str, ...]) -> RemediationAction:
    [action] = scan_evaluate(scan_id=ingest(vuln(), digest_no=1).pk)
    for to in state_path:
        action = action_transition(action_id=action.pk, to=to)
    return action


@pytest.fixture
def succeeded(defaults) -> RemediationAction:
    return rebuild_in((S.APPROVED, S.DISPATCHED, S.RUNNING, S.SUCCEEDED))


def test_scan_of_the_rebuilt_image_without_the_cve_verifies_the_action(succeeded):
    scan = ingest(vuln("CVE-2025-0100", "busybox", severity="low"), digest_no=2)

    assert scan_evaluate(scan_id=scan.pk) == [RemediationAction.objects.get(pk=succeeded.pk)]

    done = RemediationAction.objects.get(pk=succeeded.pk)
    assert (done.state, done.verified_by_scan_id) == (S.VERIFIED, scan.pk)
    fixed = Finding.objects.get(vulnerability_id="CVE-2024-6119")
    assert (fixed.status, fixed.fixed_by_scan_id) == ("fixed", scan.pk)


def test_cve_surviving_the_rebuild_fails_verification_and_marks_the_image_risky(
    succeeded, aqua, settings, mailoutbox, eager, django_capture_on_commit_callbacks
):
    settings.NOTIFY_EMAIL_TO = ["secops@example.com"]
    scan = ingest(vuln(), digest_no=2)

    with django_capture_on_commit_callbacks(execute=True):
        scan_evaluate(scan_id=scan.pk)

    done = RemediationAction.objects.get(pk=succeeded.pk)
    assert (done.state, done.risky_marked) == (S.VERIFICATION_FAILED, True)
    assert "CVE-2024-6119" in done.error
    [disallow] = aqua_calls(aqua, "disallow")
    assert disallow["images"] == [AQUA_IMAGE]
    assert Finding.objects.get().status == "open"
    # people are told, and the cooldown keeps the same scan from proposing another rebuild
    assert [m.subject for m in mailoutbox] == [
        "[Remediator] rebuild of registry.example.com/acme/api:1.4 did not fix the findings"
    ]
    assert RemediationAction.objects.count() == 1


def test_a_scanner_that_never_saw_the_findings_cannot_verify_the_rebuild(succeeded):
    blind = ingest(digest_no=2, scanner="Trivy 0.57.0")

    assert scan_evaluate(scan_id=blind.pk) == []
    assert RemediationAction.objects.get(pk=succeeded.pk).state == S.SUCCEEDED
    assert Finding.objects.get().status == "in_remediation"

    witness = ingest(digest_no=2)
    scan_evaluate(scan_id=witness.pk)
    done = RemediationAction.objects.get(pk=succeeded.pk)
    assert (done.state, done.verified_by_scan_id) == (S.VERIFIED, witness.pk)


def test_a_failed_scan_of_the_rebuilt_image_verifies_nothing(succeeded):
    failed = ingest(digest_no=2, status="failed")

    assert failed.failed
    assert scan_evaluate(scan_id=failed.pk) == []
    assert RemediationAction.objects.get(pk=succeeded.pk).state == S.SUCCEEDED
    assert Finding.objects.get().status == "in_remediation"


def test_scan_of_the_old_digest_decides_nothing(succeeded):
    scan_evaluate(scan_id=ingest(vuln(), digest_no=1).pk)
    assert RemediationAction.objects.get(pk=succeeded.pk).state == S.SUCCEEDED


def test_verified_action_lifts_the_risky_mark_it_set(succeeded, aqua):
    RemediationAction.objects.filter(pk=succeeded.pk).update(risky_marked=True)
    scan_evaluate(scan_id=ingest(digest_no=2).pk)

    assert [c["images"] for c in aqua_calls(aqua, "allow")] == [[AQUA_IMAGE]]
    assert not RemediationAction.objects.get(pk=succeeded.pk).risky_marked


def test_no_scan_after_success_asks_aqua_to_rescan_once_then_gives_up(succeeded, aqua, settings):
    past = timezone.now() - timedelta(minutes=1)
    RemediationAction.objects.filter(pk=succeeded.pk).update(verify_deadline=past)

    assert verify_overdue() == 1
    assert verify_overdue() == 0  # the next deadline is the give-up one
    [rescan] = aqua_calls(aqua, "rescan")
    assert rescan["images"] == [AQUA_IMAGE]
    waiting = RemediationAction.objects.get(pk=succeeded.pk)
    assert waiting.state == S.SUCCEEDED and waiting.verify_rescan_requested_at is not None

    RemediationAction.objects.filter(pk=succeeded.pk).update(verify_deadline=past)
    verify_overdue()

    done = RemediationAction.objects.get(pk=succeeded.pk)
    assert done.state == S.VERIFICATION_FAILED
    event = done.events.filter(kind="transition").latest("id")
    assert event.message == "no scan of the rebuilt image arrived"
    assert len(aqua_calls(aqua, "rescan")) == 1


def test_action_waiting_for_approval_is_superseded_when_its_findings_are_fixed(defaults):
    [action] = scan_evaluate(scan_id=ingest(vuln()).pk)
    scan_evaluate(scan_id=ingest(digest_no=2).pk)
    assert RemediationAction.objects.get(pk=action.pk).state == S.SUPERSEDED


def test_poll_to_success_verifies_at_once_when_the_rebuilt_image_was_already_scanned(
    defaults, gitlab, httpserver
):
    action = rebuild_in((S.APPROVED,))
    httpserver.expect_request("/api/v4/projects/42/trigger/pipeline").respond_with_json(
        pipeline(1001, "running", httpserver), status=201
    )
    action = action_dispatch(action_id=action.pk)
    assert action.state == S.RUNNING
    assert action.external_url.endswith("/acme/api/-/pipelines/1001")
    scan_evaluate(scan_id=ingest(digest_no=2).pk)  # pushed and scanned before our poll
    httpserver.expect_request("/api/v4/projects/42/pipelines/1001").respond_with_json(
        pipeline(1001, "success", httpserver)
    )

    assert action_poll(action_id=action.pk).state == S.VERIFIED


def test_failed_pipeline_fails_the_action_and_marks_the_image_risky(
    defaults, gitlab, httpserver, aqua
):
    action = rebuild_in((S.APPROVED,))
    httpserver.expect_request("/api/v4/projects/42/trigger/pipeline").respond_with_json(
        pipeline(1001, "pending", httpserver), status=201
    )
    httpserver.expect_request("/api/v4/projects/42/pipelines/1001").respond_with_json(
        pipeline(1001, "failed", httpserver)
    )
    action_dispatch(action_id=action.pk)

    done = action_poll(action_id=action.pk)

    assert (done.state, done.risky_marked) == (S.FAILED, True)
    assert done.error == "CI run failed: failed"
    assert [c["images"] for c in aqua_calls(aqua, "disallow")] == [[AQUA_IMAGE]]


def test_permanent_trigger_error_fails_the_action(defaults, gitlab, httpserver):
    action = rebuild_in((S.APPROVED,))
    httpserver.expect_request("/api/v4/projects/42/trigger/pipeline").respond_with_json(
        {"message": "404 Project Not Found"}, status=404
    )

    done = action_dispatch(action_id=action.pk)

    assert done.state == S.FAILED and "answered 404" in done.error


def test_transient_trigger_errors_are_retried_then_fail(defaults, gitlab, httpserver, settings):
    settings.ACTION_DISPATCH_RETRIES = 2
    settings.ACTION_DISPATCH_BACKOFF = 0.001
    action = rebuild_in((S.APPROVED,))
    httpserver.expect_request("/api/v4/projects/42/trigger/pipeline").respond_with_data(
        "busy", status=503
    )
    # each retry first asks whether an earlier attempt started a pipeline: none did
    httpserver.expect_request("/api/v4/projects/42/pipelines").respond_with_json([])

    action_dispatch_task.apply(args=[action.pk])  # eager: the retries run in place

    done = RemediationAction.objects.get(pk=action.pk)
    assert done.state == S.FAILED and "gave up after 2 retries" in done.error
    sent = [
        r.form["variables[REMEDIATOR_CORRELATION_ID]"]
        for r, _ in httpserver.log
        if r.path.endswith("/trigger/pipeline")
    ]
    assert sent == [str(action.correlation_id)] * 3
    assert done.attempts == 3


def test_trigger_carries_the_documented_variables(defaults, gitlab, httpserver):
    action = rebuild_in((S.APPROVED,))
    httpserver.expect_request("/api/v4/projects/42/trigger/pipeline").respond_with_json(
        pipeline(1001, "pending", httpserver), status=201
    )
    action_dispatch(action_id=action.pk)

    [(request, _)] = httpserver.log
    form = request.form
    digest = action.image.digest
    assert form["token"] == "glptt-TRIGGER-secret" and form["ref"] == "main"
    assert form["variables[REMEDIATOR_IMAGE]"] == f"registry.example.com/acme/api:1.4@{digest}"
    assert form["variables[REMEDIATOR_DIGEST]"] == digest
    assert form["variables[REMEDIATOR_CVES]"] == "CVE-2024-6119"
    assert form["variables[REMEDIATOR_PACKAGES]"] == "openssl=3.3.2-r0"
    assert form["variables[REMEDIATOR_CORRELATION_ID]"] == str(action.correlation_id)
    assert form["variables[REMEDIATOR_DETAILS_URL]"] == (
        f"https://remediator.example.com/api/v1/actions/{action.pk}/"
    )
    assert AuditEvent.objects.filter(kind="provider_call", actor_label="provider:gitlab").exists()
    [call] = action.events.filter(kind="provider_call")
    assert call.message == "trigger on build target acme-gitlab: run 1001 queued"


def test_retry_follows_its_new_ci_run_not_the_failed_one(defaults, people, gitlab, httpserver):
    trigger = "/api/v4/projects/42/trigger/pipeline"
    action = rebuild_in((S.APPROVED,))
    httpserver.expect_oneshot_request(trigger, method="POST").respond_with_json(
        pipeline(1001, "pending", httpserver), status=201
    )
    httpserver.expect_request("/api/v4/projects/42/pipelines/1001").respond_with_json(
        pipeline(1001, "failed", httpserver)
    )
    action_dispatch(action_id=action.pk)
    assert action_poll(action_id=action.pk).state == S.FAILED
    action_retry(action_id=action.pk, user=people["bob"])
    httpserver.expect_oneshot_request(trigger, method="POST").respond_with_data("busy", status=503)
    with pytest.raises(ProviderError):
        action_dispatch(action_id=action.pk)
    # GitLab lists the failed run of the first dispatch: older than this dispatch, not it
    first_run = {**pipeline(1001, "failed", httpserver), "created_at": "2026-01-01T00:00:00Z"}
    httpserver.expect_request("/api/v4/projects/42/pipelines").respond_with_json([first_run])
    httpserver.expect_request("/api/v4/projects/42/pipelines/1001/variables").respond_with_json(
        [{"key": "REMEDIATOR_CORRELATION_ID", "value": str(action.correlation_id)}]
    )

    # the beat poll between the claim and the delivered trigger must not follow run 1001
    assert action_poll(action_id=action.pk).state == S.DISPATCHED
    httpserver.expect_oneshot_request(trigger, method="POST").respond_with_json(
        pipeline(1002, "running", httpserver), status=201
    )
    done = action_dispatch(action_id=action.pk)
    assert (done.state, done.external_id) == (S.RUNNING, "1002")
