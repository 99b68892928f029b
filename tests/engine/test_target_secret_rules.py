"""A build target can neither name another system's secret nor send one over plain http.

Checked in the admin form (model validation), the YAML loader, check_targets, and
again when the provider is called (rows saved before the rules, or behind their back).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from pytest_httpserver import HTTPServer

from remediator.core.errors import ProviderError
from remediator.engine.config_as_code.load import ConfigError, config_load
from remediator.engine.models import BuildTarget
from remediator.integrations.ci import TriggerRequest
from remediator.integrations.providers import provider_for

pytestmark = pytest.mark.django_db
HARBOR_PASSWORD = "harbor-robot-password-value"
REQUEST = TriggerRequest(
    correlation_id="c-1",
    image="registry.example.com/acme/api:1@sha256:" + "a" * 64,
    digest="sha256:" + "a" * 64,
    vulnerability_ids=("CVE-2024-6119",),
    packages=(("openssl", "3.3.2-r1"),),
    details_url="https://remediator.example.com/api/v1/actions/1/",
)


@pytest.fixture
def harbor_password(monkeypatch):
    monkeypatch.setenv("HARBOR_PASSWORD", HARBOR_PASSWORD)
    monkeypatch.setenv("DATABASE_URL_TEST_ONLY", "postgres://u:pw@db/x")


def target(**fields) -> BuildTarget:
    values = {
        "name": "t",
        "provider": "gitlab",
        "url": "https://gitlab.example.com",
        "project": "42",
        "token_env": "REMEDIATOR_SECRET_GITLAB",
        "image_patterns": ["registry.example.com/acme/*"],
    }
    return BuildTarget(**{**values, **fields})


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"token_env": "HARBOR_PASSWORD"}, "token_env"),
        ({"api_token_env": "DATABASE_URL"}, "api_token_env"),
        ({"url": "http://ci.example.com"}, "url"),
        ({"url": "https://user:pw@ci.example.com"}, "url"),
    ],
)
def test_model_validation_refuses_foreign_secrets_and_plain_http(fields, field):
    with pytest.raises(ValidationError) as refused:
        target(**fields).full_clean()
    assert field in refused.value.message_dict


def test_model_validation_accepts_prefixed_names_files_and_loopback_http(settings, tmp_path):
    settings.SECRETS_DIR = str(tmp_path)
    (tmp_path / "jenkins_token").write_text("t")
    target(url="http://127.0.0.1:8080", api_token_env="jenkins_token").full_clean()
    settings.PLAIN_HTTP_HOSTS = ["ci.internal"]
    target(url="http://ci.internal:8080").full_clean()


def test_the_admin_form_refuses_a_target_that_names_harbors_password(client, harbor_password):
    client.force_login(User.objects.create(username="boss", is_staff=True, is_superuser=True))
    form = {
        "name": "evil",
        "image_patterns": '["*"]',
        "provider": "webhook",
        "url": "http://attacker.example.net/collect",
        "project": "x",
        "ref": "main",
        "token_env": "HARBOR_PASSWORD",
        "options": "{}",
        "enabled": "on",
    }
    page = client.post("/admin/remediator/buildtarget/add/", form)

    assert page.status_code == 200  # the form again, with its errors
    text = page.content.decode()
    assert "HARBOR_PASSWORD is not an allowed secret name" in text
    assert "must use https" in text
    assert HARBOR_PASSWORD not in text
    assert not BuildTarget.objects.exists()


def test_the_yaml_loader_refuses_them_with_their_lines(tmp_path):
    text = (
        "build_targets:\n"
        "  - name: a\n"
        "    provider: webhook\n"
        "    url: http://hooks.example.com/x\n"
        "    token_env: HARBOR_PASSWORD\n"
    )
    with pytest.raises(ConfigError) as refused:
        config_load(text, base_dir=tmp_path, source="r.yaml")
    message = str(refused.value)
    assert "r.yaml:4: build_targets[0].url: 'http://hooks.example.com' must use https" in message
    assert "r.yaml:5: build_targets[0].token_env: HARBOR_PASSWORD is not an allowed" in message


def test_at_call_time_a_refused_name_is_a_permanent_error_and_nothing_is_sent(
    httpserver: HTTPServer, harbor_password
):
    row = target(provider="webhook", url=httpserver.url_for("/hook"), token_env="HARBOR_PASSWORD")
    row.save()  # behind validation's back, as an old row or a shell would

    with pytest.raises(ProviderError) as refused:
        provider_for(row).trigger(REQUEST)

    assert refused.value.permanent
    assert "HARBOR_PASSWORD is not an allowed secret name" in str(refused.value)
    assert HARBOR_PASSWORD not in str(refused.value)
    assert httpserver.log == []


def test_at_call_time_plain_http_outside_the_allow_list_is_refused(
    httpserver: HTTPServer, settings, monkeypatch
):
    monkeypatch.setenv("REMEDIATOR_SECRET_GITLAB", "glptt-1")
    settings.PLAIN_HTTP_HOSTS = []  # not even the local fake
    row = target(url=httpserver.url_for("").rstrip("/"))

    with pytest.raises(ProviderError) as refused:
        provider_for(row).trigger(REQUEST)

    assert refused.value.permanent and "must use https" in str(refused.value)
    assert httpserver.log == []


def test_a_redirect_to_another_host_is_not_followed(httpserver: HTTPServer, monkeypatch):
    monkeypatch.setenv("REMEDIATOR_SECRET_GITLAB", "glptt-redirected")
    elsewhere = HTTPServer(host="localhost")
    elsewhere.start()
    try:
        elsewhere.expect_request("/steal").respond_with_json({"id": 1, "status": "created"})
        httpserver.expect_request("/api/v4/projects/42/trigger/pipeline").respond_with_data(
            "", status=307, headers={"Location": elsewhere.url_for("/steal")}
        )
        with pytest.raises(ProviderError) as refused:
            provider_for(target(url=httpserver.url_for("").rstrip("/"))).trigger(REQUEST)
        assert refused.value.permanent and refused.value.status == 307
        assert elsewhere.log == []
    finally:
        elsewhere.clear()
        elsewhere.stop()


def test_a_secret_from_the_secrets_dir_reaches_its_ci_system(httpserver, settings, tmp_path):
    settings.SECRETS_DIR = str(tmp_path)
    (tmp_path / "gitlab_trigger").write_text("glptt-from-file\n")
    httpserver.expect_request(
        "/api/v4/projects/42/trigger/pipeline", method="POST"
    ).respond_with_json({"id": 9, "status": "created", "web_url": "https://g/9"}, status=201)

    status = provider_for(
        target(url=httpserver.url_for("").rstrip("/"), token_env="gitlab_trigger")
    ).trigger(REQUEST)

    assert status.external_id == "9"
    (request, _), *_ = httpserver.log
    assert request.form["token"] == "glptt-from-file"


def test_the_admin_list_marks_an_old_row_with_a_refused_name(client, harbor_password):
    target(token_env="HARBOR_PASSWORD").save()
    client.force_login(User.objects.create(username="boss", is_staff=True, is_superuser=True))

    page = client.get("/admin/remediator/buildtarget/").content.decode()

    assert "HARBOR_PASSWORD (REFUSED: not an allowed secret name)" in page
    assert HARBOR_PASSWORD not in page
