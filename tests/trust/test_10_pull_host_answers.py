"""What GitHub and GitLab answer a fix pull request, hostile or odd, and what happens to
the action: GitLab's ``locked`` merge request is still open; GitHub's 422 on a branch
delete is "already gone" only for "Reference does not exist"; links are kept only on the
host's own site; malformed answers are named transient errors; and a GitHub rate limit
releases the worker, the task coming back at the reset."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import pytest

from remediator.core.errors import ProviderError
from remediator.engine.models import (
    ActionState,
    AuditEvent,
    BuildTarget,
    FixPullRequest,
    RemediationAction,
)
from remediator.engine.services import (
    action_approve,
    action_dispatch,
    action_poll,
    action_request_rebuild,
    pull_request_update,
)
from remediator.engine.services.propose import action_propose
from tests.engine.factories import ingest, tag_of, vuln
from tests.waiting import wait_for

from ._fixpr_support import (  # noqa: F401 (fixtures)
    BRANCH,
    approved,
    body_of,
    filled,
    fixpr_settings_fixture,
    host,
    people_fixture,
    rows,
)

pytestmark = pytest.mark.django_db
S = ActionState
SHA = "0123456789abcdef0123456789abcdef01234567"
NOT_UTF8 = base64.b64encode(b"FROM alpine:3.20\n\xff\xfe\xc3(\n").decode()
PROBES = rows("pull_hosts.tsv")


def run_step(step: str, setup, people):
    """Carry the action through ``step`` with the fault armed at the right moment; the
    action afterwards and the transient error raised or audited ('' when none)."""
    if step == "reopen":  # a branch of ours (at the base) is there: deleted, then made anew
        setup.repo.branches[BRANCH] = setup.repo.branches["main"]
    action = approved(people)
    if step == "poll":
        action_dispatch(action_id=action.pk)
        setup.arm()
        action = action_poll(action_id=action.pk)
        audited = AuditEvent.objects.filter(action=action, message__contains="failed:")
        return action, " ".join(e.message for e in audited)
    setup.arm()
    try:
        action = action_dispatch(action_id=action.pk)
    except ProviderError as exc:
        assert not exc.permanent  # permanent ones fail the action instead
        return RemediationAction.objects.get(pk=action.pk), str(exc)
    return action, ""


@pytest.mark.parametrize(
    ("name", "kind", "step", "method", "path", "mode", "status", "headers", "body", "outcome",
     "expect", "tries"),
    PROBES,
    ids=[row[0] for row in PROBES],
)  # fmt: skip
def test_every_odd_pull_host_answer_has_its_expected_outcome(
    name, kind, step, method, path, mode, status, headers, body, outcome, expect, tries,
    people, httpserver, monkeypatch,
):  # fmt: skip
    setup = host(kind, httpserver, monkeypatch)
    scheme, hostport = setup.fake.url.split("://")
    values = {
        "SITE": setup.fake.url, "SCHEME": scheme, "HOSTPORT": hostport, "SHA": SHA,
        "NONUTF8": NOT_UTF8, "RESET": str(int(time.time()) + 600), "LONG": "a" * 600,
        "NOW": datetime.now(UTC).isoformat(),
    }  # fmt: skip
    how = {"mode": mode, "body": body_of(body, values), "times": 1}
    if status != "-":
        how["status"] = int(status)
    if headers != "-":
        how["headers"] = body_of(headers, values)
    setup.arm = lambda: setup.fake.fault(method, path, **how)

    action, transient = run_step(step, setup, people)

    expect = filled(expect, values)
    record = FixPullRequest.objects.filter(action=action).first()
    if outcome == "transient":
        assert expect in transient, transient
        assert action.state == S.DISPATCHED  # left for the task's retry or the next poll
    elif outcome == "failed":
        assert action.state == S.FAILED, transient
        assert expect in action.error, action.error
    else:
        assert (action.state, transient) == (outcome, "")
        if expect.startswith("url="):
            assert record.url == expect.removeprefix("url=")
        elif expect.startswith("state="):
            assert record.state == expect.removeprefix("state=")


def test_a_merge_request_gitlab_is_merging_is_open_and_its_branch_left_alone(
    people, httpserver, monkeypatch
):
    setup = host("gitlab", httpserver, monkeypatch)
    action = action_dispatch(action_id=approved(people).pk)
    head = setup.repo.branches[BRANCH]
    setup.repo.lock(1)  # GitLab's state while it merges: "locked"

    polled = action_poll(action_id=action.pk)

    assert polled.state == S.DISPATCHED and not polled.error
    assert FixPullRequest.objects.get(action=action).state == "open"
    scan = ingest(vuln(), vuln("CVE-2023-45853", "zlib", version="1.3-r0", fixed="1.3.1-r0"))
    action_propose(
        tag=tag_of(scan), kind="pull_request",
        finding_ids=scan.tag.findings.values_list("pk", flat=True), requires_approval=True,
    )  # fmt: skip
    pull_request_update(action_id=action.pk)
    assert setup.repo.branches[BRANCH] == head  # nothing pushed while it is being merged
    assert AuditEvent.objects.filter(action=action, message__contains="being merged").exists()

    setup.repo.merge(1)
    assert action_poll(action_id=action.pk).state == S.RUNNING


@pytest.mark.parametrize(
    ("message", "gone"),
    [
        ("Reference does not exist", True),
        ("Reference does not exist.", False),
        ("Cannot delete this protected branch", False),
        ("Repository rule violations found\n\nCannot delete this branch\n\n", False),
        ("", False),
    ],
)
def test_github_422_on_a_branch_delete_means_gone_only_for_reference_does_not_exist(
    message, gone, people, httpserver, monkeypatch
):
    setup = host("github", httpserver, monkeypatch)
    setup.repo.branches[BRANCH] = setup.repo.branches["main"]
    setup.fake.fault("DELETE", "git/refs/heads/.*", mode="after", status=422,
                     body={"message": message}, times=1)  # fmt: skip

    action = action_dispatch(action_id=approved(people).pk)

    if gone:
        assert action.state == S.DISPATCHED and len(setup.repo.pulls) == 1
    else:
        assert action.state == S.FAILED and setup.repo.pulls == []
        assert action.error.startswith(f"github: cannot delete branch {BRANCH}: 422")


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_rate_limit_releases_the_worker_which_retries_at_the_reset(
    celery_live_worker, people, httpserver, monkeypatch, settings
):
    """One worker process: the fix PR's dispatch is rate limited for 5 s; a rebuild queued
    after it is carried out before the retry, which comes at the reset, not the backoff."""
    settings.ACTION_DISPATCH_BACKOFF = 600  # a backoff would come ten minutes later
    setup = host("github", httpserver, monkeypatch)
    setup.target.image_patterns = ["registry.example.com/acme/api"]
    setup.target.save()
    limited = {"message": "You have exceeded a secondary rate limit."}
    setup.fake.fault("GET", "pulls", status=403, headers={"retry-after": "5"}, body=limited,
                     times=1)  # fmt: skip
    monkeypatch.setenv("REMEDIATOR_SECRET_HOOK", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    BuildTarget.objects.create(
        name="web-hook", provider="webhook", url=httpserver.url_for("/hook"),
        token_env="REMEDIATOR_SECRET_HOOK", image_patterns=["registry.example.com/acme/web"],
    )  # fmt: skip
    httpserver.expect_request("/hook", method="POST").respond_with_json({"ok": True})

    first = approved(people)  # dispatched after commit, by the worker
    assert wait_for(lambda: AuditEvent.objects.filter(action=first, data__rate_limited=True))
    web = tag_of(ingest(vuln(), image="registry.example.com/acme/web"))
    second = action_request_rebuild(tag=web, user=people["alice"])
    action_approve(action_id=second.pk, user=people["bob"])

    def opened() -> AuditEvent | None:
        return AuditEvent.objects.filter(action=first, message__startswith="open pull").first()

    assert wait_for(opened)
    built = AuditEvent.objects.get(action=second, to_state=S.SUCCEEDED)
    assert built.pk < opened().pk  # the worker did the rebuild while the PR waited
    [waited] = AuditEvent.objects.filter(action=first, data__rate_limited=True)
    assert waited.data["retry_in_s"] == 5.0
    assert RemediationAction.objects.get(pk=first.pk).state == S.DISPATCHED
    assert FixPullRequest.objects.get(action=first).number == 1
