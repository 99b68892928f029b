from __future__ import annotations

import importlib
import json

import pytest
from django.apps import apps as global_apps
from django.contrib.auth.models import Group, User

from remediator.engine.models import BuildTarget, Policy

DEFAULTS = importlib.import_module("remediator.engine.migrations.0003_default_policy_and_groups")
GITLAB_TRIGGER_TOKEN = "glptt-TRIGGER-secret"
GITLAB_API_TOKEN = "glpat-API-secret"


@pytest.fixture(autouse=True)
def engine_settings(settings):
    """Fast provider retries, a known base URL, and no notification channel unless asked."""
    settings.PROVIDER_RETRIES = 0
    settings.PROVIDER_RETRY_BACKOFF = 0.001
    settings.NOTIFY_RETRIES = 0
    settings.BASE_URL = "https://remediator.example.com"
    settings.NOTIFY_EMAIL_TO = []
    settings.SLACK_WEBHOOK_URL = ""
    settings.AQUA_URL = ""
    settings.ACTION_COOLDOWN_MINUTES = 60
    settings.MANUAL_REBUILD_REQUIRES_APPROVAL = True
    return settings


@pytest.fixture
def defaults(db):
    """The default policy and the groups, as the data migration creates them
    (recreated: a transactional test elsewhere may have flushed them)."""
    DEFAULTS.forwards(global_apps, None)
    return list(Policy.objects.order_by("order"))


@pytest.fixture
def people(defaults):
    """alice and bob approve, vera only views, nora has no rights."""
    approvers = Group.objects.get(name="Security approvers")
    viewers = Group.objects.get(name="Viewer")
    made = {}
    for name, group in [("alice", approvers), ("bob", approvers), ("vera", viewers)]:
        user = User.objects.create(username=name)
        user.groups.add(group)
        made[name] = user
    made["nora"] = User.objects.create(username="nora")
    return made


@pytest.fixture
def eager():
    """Run Celery tasks in the caller (with django_capture_on_commit_callbacks)."""
    from remediator.celery import app

    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture
def gitlab(httpserver, monkeypatch, db):
    """A GitLab build target pointing at the local fake, with its tokens in the environment."""
    monkeypatch.setenv("REMEDIATOR_SECRET_GITLAB_TRIGGER", GITLAB_TRIGGER_TOKEN)
    monkeypatch.setenv("REMEDIATOR_SECRET_GITLAB_API", GITLAB_API_TOKEN)
    return BuildTarget.objects.create(
        name="acme-gitlab",
        provider="gitlab",
        url=httpserver.url_for("").rstrip("/"),
        project="42",
        ref="main",
        token_env="REMEDIATOR_SECRET_GITLAB_TRIGGER",
        api_token_env="REMEDIATOR_SECRET_GITLAB_API",
        image_patterns=["registry.example.com/acme/*"],
    )


def pipeline(pipeline_id: int, status: str, httpserver) -> dict:
    return {
        "id": pipeline_id,
        "iid": 7,
        "project_id": 42,
        "status": status,
        "ref": "main",
        "sha": "a91957a858320c0e17f3a0eca7cfacbff50ea29a",
        "web_url": f"{httpserver.url_for('')}acme/api/-/pipelines/{pipeline_id}",
    }


@pytest.fixture
def aqua(httpserver, settings):
    """Aqua configured against the local fake: login answers a token."""
    settings.AQUA_URL = httpserver.url_for("").rstrip("/")
    settings.AQUA_USERNAME = "remediator"
    settings.AQUA_PASSWORD = "aqua-pw"
    httpserver.expect_request("/api/v1/login", method="POST").respond_with_json({"token": "tk"})
    for verb in ("disallow", "allow", "rescan"):
        httpserver.expect_request(f"/api/v1/images/{verb}", method="POST").respond_with_data(
            "", status=204
        )
    return httpserver


def aqua_calls(httpserver, verb: str) -> list[dict]:
    return [
        json.loads(request.data)
        for request, _ in httpserver.log
        if request.path == f"/api/v1/images/{verb}"
    ]
