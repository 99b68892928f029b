"""Webhook secrets and secret query parameters leave log lines in every spelling."""

from __future__ import annotations

import logging
import sys
from urllib.parse import quote

import pytest

from remediator.core.redact import RedactSecretsFilter, redact_text

SECRET = "s3cr3t-Zeta_42"


def spellings(secret: str) -> list[str]:
    """The secret as a path segment: raw, partly or wholly encoded, hex in either case."""
    full = "".join(f"%{ord(c):02X}" for c in secret)
    return [
        secret,
        secret.replace("Z", "%5A"),
        secret.replace("Z", "%5a"),
        full,
        full.lower(),
        quote(full, safe=""),  # encoded twice: %255A...
        secret[:3] + "%2F" + secret[3:],  # an encoded slash inside it
    ]


@pytest.mark.parametrize("segment", spellings(SECRET))
@pytest.mark.parametrize(
    "template",
    [
        '"POST /api/v1/webhooks/trivy/{}/ HTTP/1.1" 202 57',
        "Unauthorized: /api/v1/webhooks/trivy/{}",
        "/api/v1//webhooks/aqua/./{}/",
        "/api/v1/%77ebhooks/aqua/{}/?image=alpine",
        "https://remediator.example.com/api/v1/webhooks/trivy%2F{}/",
    ],
)
def test_a_path_secret_is_hidden_in_every_spelling(template, segment):
    line = redact_text(template.format(segment))

    assert "<secret>" in line
    assert SECRET not in line and segment not in line
    assert SECRET.lower() not in line.lower()


@pytest.mark.parametrize(
    "query",
    [
        "secret=VALUE",
        "token=VALUE&image=alpine",
        "image=alpine&WEBHOOK_SECRET=VALUE",
        "%73ecret=VALUE",
        "access-token=VALUE",
        "api_key=VALUE;x=1",
    ],
)
def test_secret_query_parameters_are_hidden(query):
    for text in (f"GET /api/v1/webhooks/trivy/?{query} HTTP/1.1", query):
        assert "VALUE" not in redact_text(text)


def test_ordinary_lines_are_left_alone():
    for line in [
        '"GET /api/v1/findings/?image=a%2Fb&severity=high HTTP/1.1" 200 512',
        "POST /api/v1/webhooks/trivy/ 202",
        "harbor event delivery 4: reports [5]",
        "100% done",
    ]:
        assert redact_text(line) == line


def test_the_filter_rewrites_tuple_and_dict_arguments_and_tracebacks():
    check = RedactSecretsFilter()
    plain = logging.LogRecord("django.request", 30, __file__, 1, "%s: %s", ("No", ""), None)
    plain.args = ("Unauthorized", f"/api/v1/webhooks/trivy/{SECRET}/")
    atoms = {"r": f"POST /api/v1/webhooks/trivy/{SECRET}/ HTTP/1.1", "{authorization}i": SECRET}
    access = logging.LogRecord(
        "gunicorn.access", 20, __file__, 1, "%(r)s %({authorization}i)s", (), None
    )
    access.args = atoms
    try:
        raise ValueError(f"bad path /api/v1/webhooks/trivy/{SECRET}/")
    except ValueError:
        failed = logging.LogRecord("x", 40, __file__, 1, "failed", (), sys.exc_info())

    for record in (plain, access, failed):
        assert check.filter(record)
        text = logging.Formatter().format(record)
        assert SECRET not in text, text
    assert logging.Formatter().format(access) == (
        "POST /api/v1/webhooks/trivy/<secret>/ HTTP/1.1 <secret>"
    )
