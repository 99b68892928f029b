"""Helpers for the fix pull request tests in this folder: a fake GitHub or GitLab
repository with a build target for it, and an approved fix-PR action of the test image
(registry.example.com/acme/api:1.4, one openssl finding)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps as global_apps
from django.contrib.auth.models import Group, User

from remediator.engine.models import BuildTarget, RemediationAction
from remediator.engine.services import action_approve, action_request_pull_request
from remediator.engine.services.pull_request import fix_branch
from tests.engine.conftest import DEFAULTS
from tests.engine.factories import ingest, tag_of, vuln
from tests.fake_git_hosts import GITHUB_TOKEN, GITLAB_TOKEN, FakeGitHub, FakeGitLab, Repo

BAD = Path(__file__).parent.parent / "fixtures" / "bad"
DOCKERFILE = "FROM alpine:3.20\nRUN apk add --no-cache openssl zlib\n"
BRANCH = fix_branch("registry.example.com", "acme/api", "1.4")


@pytest.fixture(name="fixpr_settings", autouse=True)
def fixpr_settings_fixture(settings):
    """As the engine tests have it: no provider retries inside a call, a known base URL,
    no notification channel, fix PRs approved by a second person."""
    settings.PROVIDER_RETRIES = 0
    settings.PROVIDER_RETRY_BACKOFF = 0.001
    settings.NOTIFY_RETRIES = 0
    settings.BASE_URL = "https://remediator.example.com"
    settings.NOTIFY_EMAIL_TO = []
    settings.SLACK_WEBHOOK_URL = ""
    settings.AQUA_URL = ""
    settings.MANUAL_REBUILD_REQUIRES_APPROVAL = True
    return settings


@pytest.fixture(name="people")
def people_fixture(db):
    """alice and bob approve, vera only views (the default groups, as migrated)."""
    DEFAULTS.forwards(global_apps, None)
    approvers = Group.objects.get(name="Security approvers")
    made = {}
    for name, group in [("alice", approvers), ("bob", approvers)]:
        made[name] = User.objects.create(username=name)
        made[name].groups.add(group)
    made["vera"] = User.objects.create(username="vera")
    made["vera"].groups.add(Group.objects.get(name="Viewer"))
    return made


@dataclass
class Host:
    repo: Repo
    fake: FakeGitHub | FakeGitLab
    target: BuildTarget


def host(kind: str, httpserver, monkeypatch, dockerfile: str = DOCKERFILE) -> Host:
    """A fake ``github`` or ``gitlab`` repository holding ``dockerfile`` and its target."""
    repo = Repo({"Dockerfile": dockerfile})
    if kind == "github":
        monkeypatch.setenv("REMEDIATOR_SECRET_GITHUB", GITHUB_TOKEN)
        fake = FakeGitHub(httpserver, repo, "acme/api")
        fields = {"project": "acme/api", "workflow": "build.yml"}
        fields["token_env"] = "REMEDIATOR_SECRET_GITHUB"
    else:
        monkeypatch.setenv("REMEDIATOR_SECRET_GITLAB_API", GITLAB_TOKEN)
        fake = FakeGitLab(httpserver, repo, 42)
        fields = {"project": "42", "api_token_env": "REMEDIATOR_SECRET_GITLAB_API"}
    target = BuildTarget.objects.create(
        name=f"api-{kind}",
        provider=kind,
        url=fake.url,
        image_patterns=["registry.example.com/acme/*"],
        **fields,
    )
    return Host(repo, fake, target)


def approved(people, *findings: dict) -> RemediationAction:
    """alice asks for the image's fix pull request, bob approves it."""
    tag = tag_of(ingest(*(findings or (vuln(),))))
    action = action_request_pull_request(tag=tag, user=people["alice"])
    return action_approve(action_id=action.pk, user=people["bob"])


def rows(name: str) -> list[list[str]]:
    """The data lines of a tab-separated corpus file (``#`` lines are comments)."""
    with (BAD / name).open(encoding="utf-8", newline="") as file:
        lines = [line for line in file if line.strip() and not line.startswith("#")]
    return list(csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


def filled(text: str, values: dict[str, str]) -> str:
    for key in sorted(values, key=len, reverse=True):
        text = text.replace(f"${key}", values[key])
    return text


def body_of(text: str, values: dict[str, str]):
    """A corpus body: ``@text:…`` raw, ``@huge`` a 2.8 MB JSON list, else JSON."""
    if text.startswith("@text:"):
        return text.removeprefix("@text:")
    if text == "@huge":
        return [{}] * 700_000
    return json.loads(filled(text, values))
