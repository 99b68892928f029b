"""Fix pull requests' rules against fake GitHub / GitLab repositories: one open PR per
image, updated when findings join; never over someone else's commits; closed unmerged
fails the action; stale file versions are refused and retried."""

from __future__ import annotations

import pytest

from remediator.core.errors import ProviderError
from remediator.engine.models import ActionState, AuditEvent, BuildTarget, FixPullRequest
from remediator.engine.services import (
    ActionNotAllowed,
    action_approve,
    action_dispatch,
    action_poll,
    action_request_pull_request,
    action_retry,
    pull_request_update,
)
from remediator.engine.services.propose import action_propose
from remediator.engine.services.pull_request import fix_branch
from remediator.integrations.github.pulls import GitHubPulls
from remediator.integrations.gitlab.merge_requests import GitLabMergeRequests

from ..fake_git_hosts import GITHUB_TOKEN, GITLAB_TOKEN, FakeGitHub, FakeGitLab, Repo
from .factories import ingest, tag_of, vuln

pytestmark = pytest.mark.django_db
S = ActionState
DOCKERFILE = "FROM alpine:3.20\nRUN apk add --no-cache openssl zlib\n"
BRANCH = fix_branch("registry.example.com", "acme/api", "1.4")


@pytest.fixture
def repo() -> Repo:
    return Repo({"Dockerfile": DOCKERFILE})


@pytest.fixture
def target(httpserver, repo, monkeypatch) -> BuildTarget:
    monkeypatch.setenv("REMEDIATOR_SECRET_GITHUB", GITHUB_TOKEN)
    github = FakeGitHub(httpserver, repo, "acme/api")
    return BuildTarget.objects.create(
        name="api-github",
        provider="github",
        url=github.url,
        project="acme/api",
        workflow="build.yml",
        token_env="REMEDIATOR_SECRET_GITHUB",
        image_patterns=["registry.example.com/acme/*"],
    )


def opened(people, target):
    """The openssl finding's fix PR, requested by alice, approved by bob, dispatched."""
    tag = tag_of(ingest(vuln()))
    action = action_request_pull_request(tag=tag, user=people["alice"])
    assert action.state == S.AWAITING_APPROVAL
    action_approve(action_id=action.pk, user=people["bob"])
    return action_dispatch(action_id=action.pk)


def test_findings_joining_the_open_pull_request_are_pushed_to_its_branch(people, target, repo):
    action = opened(people, target)
    first_head = repo.branches[BRANCH]
    assert "'openssl>=3.3.2-r0'" in repo.file(BRANCH, "Dockerfile")

    scan = ingest(vuln(), vuln("CVE-2023-45853", "zlib", version="1.3-r0", fixed="1.3.1-r0"))
    joined, outcome = action_propose(
        tag=tag_of(scan),
        kind="pull_request",
        finding_ids=scan.tag.findings.values_list("pk", flat=True),
        requires_approval=True,
    )
    assert (joined.pk, outcome) == (action.pk, "joined")
    pull_request_update(action_id=action.pk)

    [pull] = repo.pulls  # still the one PR for the image
    assert repo.commits[repo.branches[BRANCH]]["parent"] == first_head  # on top: no force
    assert "'zlib>=1.3.1-r0'" in repo.file(BRANCH, "Dockerfile")
    assert "CVE-2023-45853" in pull["body"] and "zlib 1.3.1-r0" in pull["title"]
    assert FixPullRequest.objects.get(action=action).head_sha == repo.branches[BRANCH]


def test_a_branch_with_someone_elses_commit_is_left_alone(people, target, repo):
    action = opened(people, target)
    human = repo.human_push(BRANCH, "Dockerfile", DOCKERFILE + "# reviewed by hand\n")
    scan = ingest(vuln(), vuln("CVE-2023-45853", "zlib", version="1.3-r0", fixed="1.3.1-r0"))
    action.findings.add(*tag_of(scan).findings.values_list("pk", flat=True))

    pull_request_update(action_id=action.pk)

    assert repo.branches[BRANCH] == human
    assert AuditEvent.objects.filter(
        action=action, message__contains="commits Remediator did not make"
    ).exists()


def test_a_pull_request_closed_without_merging_fails_the_action_with_the_reason(
    people, target, repo
):
    action = opened(people, target)
    repo.close(1)

    action = action_poll(action_id=action.pk)

    assert action.state == S.FAILED
    assert "closed without being merged" in action.error
    assert AuditEvent.objects.filter(
        action=action, to_state=S.FAILED, message__contains="closed without being merged"
    ).exists()


def test_a_retry_after_a_closed_pull_request_opens_a_new_one_from_the_base(people, target, repo):
    action = opened(people, target)
    repo.close(1)
    action_poll(action_id=action.pk)

    action_retry(action_id=action.pk, user=people["bob"])
    action = action_dispatch(action_id=action.pk)

    assert action.state == S.DISPATCHED
    assert [p["state"] for p in repo.pulls] == ["closed", "open"]
    head = repo.commits[repo.branches[BRANCH]]
    assert head["parent"] == repo.branches["main"] and head["by"] == "remediator"


def test_an_existing_branch_with_someone_elses_commits_is_not_replaced(people, target, repo):
    repo.branches[BRANCH] = repo.branches["main"]
    human = repo.human_push(BRANCH, "Dockerfile", DOCKERFILE + "# mine\n")

    action = opened(people, target)

    assert action.state == S.FAILED and "did not make" in action.error
    assert repo.branches[BRANCH] == human and repo.pulls == []


def test_a_target_that_cannot_open_pull_requests_is_refused(people, httpserver):
    BuildTarget.objects.create(
        name="api-jenkins",
        provider="jenkins",
        url=httpserver.url_for("").rstrip("/"),
        project="rebuild-api",
        image_patterns=["registry.example.com/acme/*"],
    )
    tag = tag_of(ingest(vuln()))

    with pytest.raises(ActionNotAllowed, match="GitHub or GitLab"):
        action_request_pull_request(tag=tag, user=people["alice"])


def test_github_refuses_a_stale_file_version_and_it_is_retried(target, repo):
    host = GitHubPulls(target)

    with pytest.raises(ProviderError) as raised:
        host.file_commit("Dockerfile", branch="main", text="x", version="0" * 40, message="m")

    assert raised.value.status == 409 and not raised.value.permanent
    assert repo.file("main", "Dockerfile") == DOCKERFILE


def test_gitlab_refuses_a_stale_last_commit_id_and_it_is_retried(httpserver, monkeypatch):
    monkeypatch.setenv("REMEDIATOR_SECRET_GITLAB_API", GITLAB_TOKEN)
    repo = Repo({"Dockerfile": DOCKERFILE})
    gitlab = FakeGitLab(httpserver, repo, 42)
    target = BuildTarget(
        name="api-gitlab",
        provider="gitlab",
        url=gitlab.url,
        project="42",
        api_token_env="REMEDIATOR_SECRET_GITLAB_API",
    )
    host = GitLabMergeRequests(target)
    current = host.file_read("Dockerfile", ref="main")
    repo.human_push("main", "Dockerfile", DOCKERFILE + "# changed\n")

    with pytest.raises(ProviderError) as raised:
        host.file_commit(
            "Dockerfile", branch="main", text="x", version=current.version, message="m"
        )

    assert raised.value.status == 400 and not raised.value.permanent


def test_open_fix_pr_button_beside_the_patch_requests_one_for_another_to_approve(
    people, target, client
):
    target.dockerfile = DOCKERFILE
    target.save()
    tag = tag_of(ingest(vuln()))
    rebuild, _ = action_propose(
        tag=tag, kind="rebuild", finding_ids=tag.findings.values_list("pk", flat=True),
        requires_approval=True,
    )  # fmt: skip
    client.force_login(people["alice"])

    page = client.get(f"/actions/{rebuild.pk}/").content.decode()
    assert "Open fix PR" in page and f"/tags/{tag.pk}/pull-request/" in page

    response = client.post(f"/tags/{tag.pk}/pull-request/", {"next": f"/actions/{rebuild.pk}/"})

    assert response.status_code == 302
    fix = tag.actions.get(kind="pull_request")
    assert fix.state == S.AWAITING_APPROVAL and fix.requested_by == people["alice"]
    with pytest.raises(ActionNotAllowed, match="four eyes"):
        action_approve(action_id=fix.pk, user=people["alice"])
    client.force_login(people["vera"])
    assert client.post(f"/tags/{tag.pk}/pull-request/").status_code == 403


def test_api_requests_a_fix_pull_request_and_shows_it_once_open(people, target, repo):
    from rest_framework.test import APIClient

    tag = tag_of(ingest(vuln()))
    api = APIClient()
    api.force_authenticate(people["alice"])

    response = api.post(f"/api/v1/images/{tag.repository_id}/pull-request/", {"tag": "1.4"})

    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "pull_request" and response.json()["pull_request"] is None
    action_id = response.json()["id"]
    action_approve(action_id=action_id, user=people["bob"])
    action_dispatch(action_id=action_id)
    shown = api.get(f"/api/v1/actions/{action_id}/").json()["pull_request"]
    assert shown["number"] == 1 and shown["branch"] == BRANCH and shown["state"] == "open"
