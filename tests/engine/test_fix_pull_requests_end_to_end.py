"""The seed's story as a fix pull request, through a real Celery worker, the real API and
fake GitHub / GitLab repositories: the seed's Aqua payload -> the openssl finding -> a
policy's fix PR, opened after a second person approves -> merged, built by CI -> the
next scan without the CVE verifies the action."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from findings.models import Finding
from remediator.engine.models import (
    ActionState,
    BuildTarget,
    FixPullRequest,
    Policy,
    RemediationAction,
)
from remediator.engine.services.pull_request import fix_branch
from remediator.engine.tasks import actions_poll_task

from ..conftest import FIXTURES
from ..fake_git_hosts import GITHUB_TOKEN, GITLAB_TOKEN, FakeGitHub, FakeGitLab, Repo
from ..waiting import wait_for

S = ActionState
HOOK_SECRET = "aqua-hook-secret"
SEED = json.loads((FIXTURES / "aqua/seed_blog_simplified_payload.json").read_text())
DOCKERFILE = (
    "FROM ubuntu:22.04\n"
    "RUN apt-get update && apt-get install -y --no-install-recommends curl\n"
    'CMD ["my-app"]\n'
)
PATH = "docker/Dockerfile"


def post_seed(body: dict) -> None:
    response = APIClient().post(
        "/api/v1/webhooks/aqua/?image=my-app:latest",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {HOOK_SECRET}",
    )
    assert response.status_code == 202, response.content


def state_of(action_id: int) -> str:
    return RemediationAction.objects.get(pk=action_id).state


def fix_pr_policy(target: BuildTarget, owner) -> None:
    Policy.objects.update(enabled=False)
    Policy.objects.create(
        name="openssl-fix-pr",
        order=1,
        min_severity="high",
        fix_available=True,
        action="pull_request",
        requires_approval=True,
        build_target=target,
        owner=owner,
    )


@pytest.fixture
def hook(monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET_AQUA", HOOK_SECRET)


def the_story(people, repo: Repo, target: BuildTarget) -> None:
    fix_pr_policy(target, people["alice"])

    post_seed(SEED)
    assert wait_for(lambda: RemediationAction.objects.filter(state=S.AWAITING_APPROVAL).exists())
    finding = Finding.objects.get()
    assert (finding.vulnerability_id, finding.package) == ("CVE-2023-1234", "openssl")
    assert finding.fixed_version == "1.1.1u-1ubuntu1.4"
    assert str(finding.repository) == "docker.io/library/my-app"
    action = RemediationAction.objects.get()
    assert action.kind == "pull_request" and action.requested_by == people["alice"]

    requester = APIClient()
    requester.force_authenticate(people["alice"])
    refused = requester.post(f"/api/v1/actions/{action.pk}/approve/", {"reason": "mine"})
    assert refused.status_code == 403 and refused.json()["error"] == "four_eyes"
    assert repo.pulls == []

    approver = APIClient()
    approver.force_authenticate(people["bob"])
    response = approver.post(f"/api/v1/actions/{action.pk}/approve/", {"reason": "ship it"})
    assert response.status_code == 200, response.json()

    assert wait_for(lambda: FixPullRequest.objects.filter(action=action, number=1).exists())
    [pull] = repo.pulls
    assert pull["base"] == "main"
    assert pull["head"] == fix_branch("docker.io", "library/my-app", "latest")
    for named in ("CVE-2023-1234", "openssl", "1.1.1u-1ubuntu1.4"):
        assert named in pull["title"] and named in pull["body"]
    assert f"https://remediator.example.com/actions/{action.pk}/" in pull["body"]
    patched = repo.file(pull["head"], PATH)
    assert "openssl=1.1.1u-1ubuntu1.4" in patched and patched.startswith(DOCKERFILE[:18])
    assert repo.file("main", PATH) == DOCKERFILE  # nothing reaches the base before the merge
    assert state_of(action.pk) == S.DISPATCHED

    merge_sha = repo.merge(1)
    actions_poll_task.delay()
    assert wait_for(lambda: state_of(action.pk) == S.RUNNING)
    record = FixPullRequest.objects.get(action=action)
    assert wait_for(lambda: RemediationAction.objects.get(pk=action.pk).external_id == "5000")
    assert FixPullRequest.objects.get(pk=record.pk).merge_commit_sha == merge_sha

    repo.finish_build(merge_sha, ok=True)
    actions_poll_task.delay()
    assert wait_for(lambda: state_of(action.pk) == S.SUCCEEDED)

    post_seed({**SEED, "scanId": "after-the-fix", "findings": []})

    assert wait_for(lambda: state_of(action.pk) == S.VERIFIED)
    finding.refresh_from_db()
    assert finding.status == "fixed"
    assert RemediationAction.objects.get(pk=action.pk).verified_by_scan == finding.fixed_by_scan


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_seed_finding_is_fixed_by_a_github_pull_request_merged_built_and_verified(
    celery_live_worker, hook, people, httpserver, monkeypatch
):
    monkeypatch.setenv("REMEDIATOR_SECRET_GITHUB", GITHUB_TOKEN)
    repo = Repo({PATH: DOCKERFILE})
    github = FakeGitHub(httpserver, repo, "acme/my-app")
    target = BuildTarget.objects.create(
        name="my-app-github",
        provider="github",
        url=github.url,
        project="acme/my-app",
        ref="main",
        workflow="build.yml",
        dockerfile_path=PATH,
        token_env="REMEDIATOR_SECRET_GITHUB",
        image_patterns=["docker.io/library/my-app"],
    )

    the_story(people, repo, target)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_seed_finding_is_fixed_by_a_gitlab_merge_request_merged_built_and_verified(
    celery_live_worker, hook, people, httpserver, monkeypatch
):
    monkeypatch.setenv("REMEDIATOR_SECRET_GITLAB_API", GITLAB_TOKEN)
    repo = Repo({PATH: DOCKERFILE})
    gitlab = FakeGitLab(httpserver, repo, 42)
    target = BuildTarget.objects.create(
        name="my-app-gitlab",
        provider="gitlab",
        url=gitlab.url,
        project="42",
        ref="main",
        dockerfile_path=PATH,
        api_token_env="REMEDIATOR_SECRET_GITLAB_API",
        image_patterns=["docker.io/library/my-app"],
    )

    the_story(people, repo, target)
