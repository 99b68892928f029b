"""Secrets go over https, or plain http only to allow-listed (by default loopback) hosts."""

from __future__ import annotations

import pytest

from remediator.integrations.checks import outbound_urls_check
from remediator.integrations.outbound import outbound_url_problem


@pytest.mark.parametrize(
    "url",
    ["https://gitlab.example.com", "http://127.0.0.1:8080/x", "http://localhost", "http://[::1]:1"],
)
def test_https_and_loopback_http_are_allowed(url):
    assert outbound_url_problem(url) == ""


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://ci.example.com", "must use https"),
        ("http://127.0.0.1.attacker.net", "must use https"),
        ("http://localhost@attacker.net/", "must not carry user info"),
        ("https://user:pw@ci.example.com", "must not carry user info"),
        ("ftp://ci.example.com", "is not an http(s) URL"),
        ("https://ci.example.com\\@127.0.0.1", "backslash"),
        ("https://ci.example.com:99999", "cannot be parsed"),
    ],
)
def test_other_urls_are_refused_without_showing_credentials(url, problem):
    message = outbound_url_problem(url)
    assert problem in message
    assert "pw" not in message


def test_the_allow_list_is_a_setting(settings):
    settings.PLAIN_HTTP_HOSTS = ["ci.internal"]
    assert outbound_url_problem("http://ci.internal:8080") == ""
    assert "must use https" in outbound_url_problem("http://127.0.0.1")


def test_manage_py_check_reports_plain_http_aqua_and_harbor_urls(settings):
    settings.AQUA_URL = "http://aqua.example.com"
    settings.HARBOR_URL = "https://harbor.example.com"
    settings.SLACK_WEBHOOK_URL = "http://hooks.example.com/services/T0/B0/SECRETPART"

    errors = outbound_urls_check()

    assert [e.msg.split(":")[0] for e in errors] == ["AQUA_URL", "SLACK_WEBHOOK_URL"]
    assert all("SECRETPART" not in e.msg for e in errors)
