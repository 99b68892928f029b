"""examples/fake_ci.py (the story's stand-in for GitLab and Aqua) keeps answering what our
GitLab and Aqua clients expect, and logs what they sent."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from remediator.engine.models import BuildTarget
from remediator.integrations.aqua.client import AquaClient, AquaImage
from remediator.integrations.ci import TriggerRequest
from remediator.integrations.gitlab.client import GitLabCI

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fake_ci.py"


@pytest.fixture
def fake(tmp_path):
    spec = importlib.util.spec_from_file_location("fake_ci", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    log = tmp_path / "fake.jsonl"
    server = module.serve(port=0, trigger_token="glptt-t", api_token="glpat-a", log_path=str(log))
    yield f"http://127.0.0.1:{server.server_port}", log
    server.shutdown()
    server.server_close()


def logged(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.mark.django_db
def test_example_fake_runs_a_gitlab_pipeline_to_success_and_logs_the_variables(fake, monkeypatch):
    url, log = fake
    monkeypatch.setenv("REMEDIATOR_SECRET_STORY_TRIGGER", "glptt-t")
    monkeypatch.setenv("REMEDIATOR_SECRET_STORY_API", "glpat-a")
    target = BuildTarget(
        name="story", provider="gitlab", url=url, project="42", ref="main",
        token_env="REMEDIATOR_SECRET_STORY_TRIGGER", api_token_env="REMEDIATOR_SECRET_STORY_API",
    )  # fmt: skip
    ci = GitLabCI(target)
    request = TriggerRequest(
        correlation_id="c-1",
        image="registry.example.com/shop/api:1.0@sha256:" + "a" * 64,
        digest="sha256:" + "a" * 64,
        vulnerability_ids=("CVE-2024-6119",),
        packages=(("openssl", "3.3.2-r0"),),
        details_url="http://127.0.0.1:8000/api/v1/actions/1/",
    )

    started = ci.trigger(request)
    first, second = ci.status(started.provider_state), ci.status(started.provider_state)

    assert (started.state, first.state, second.state) == ("queued", "running", "succeeded")
    trigger = logged(log)[0]
    assert trigger["path"] == "/api/v4/projects/42/trigger/pipeline"
    assert trigger["form"]["token"] == "***"
    assert trigger["form"]["variables[REMEDIATOR_CVES]"] == "CVE-2024-6119"
    assert trigger["form"]["variables[REMEDIATOR_PACKAGES]"] == "openssl=3.3.2-r0"
    assert all(e["private_token_ok"] for e in logged(log)[1:])


@pytest.mark.django_db
def test_example_fake_answers_aqua_login_and_disallow(fake, settings):
    url, log = fake
    settings.AQUA_VERIFY_TLS = True
    settings.AQUA_CA_BUNDLE = ""

    AquaClient(url=url, username="x", password="y").disallow(
        [AquaImage.of("registry.example.com", "shop/worker", "1.0")], comment="story"
    )

    login, disallow = logged(log)
    assert (login["path"], login["json"]["password"]) == ("/api/v1/login", "***")
    assert disallow["path"] == "/api/v1/images/disallow"
    assert disallow["json"]["images"][0]["repository"] == "shop/worker"
