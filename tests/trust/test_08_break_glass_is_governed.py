"""Class 8: break-glass is governed. Only the users, groups (the review's userInfo) and
namespaces the settings name may use it, by default members of system:masters (who
could switch the webhook off anyway); the reason must be a real one; each use is
audited, counted and sent to the security team (email and Slack)."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from remediator.engine.admission.break_glass import BreakGlassPolicy, valid_reason
from remediator.engine.models import AuditEvent
from tests.engine.conftest import eager  # noqa: F401 (fixture)

from ._admission_support import (  # noqa: F401 (fixtures)
    admission_event,
    admission_settings,
    answer_of,
    post_review,
    sample,
    shop,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop")]
SLACK_PATH = "/services/T000/B000/BREAKGLASS"
REASON = "INC-4711 checkout down, rollback needs the old image"


def _used(result: str) -> float:
    labels = {"result": result}
    return REGISTRY.get_sample_value("remediator_admission_break_glass_total", labels) or 0.0


def glass_review(reason: str, *, user: str = "kubernetes-admin", groups=None, namespace="shop"):
    """A CREATE of the vulnerable shop Pod carrying the break-glass annotation."""
    body = sample("update_pod_finalizer_removed.json")
    request = body["request"]
    request.update(operation="CREATE", oldObject=None, namespace=namespace)
    request["userInfo"] = {"username": user, "groups": groups or ["system:authenticated"]}
    request["object"]["metadata"]["annotations"] = {"remediator.io/break-glass": reason}
    return body


@pytest.fixture
def channels(settings, httpserver):
    settings.NOTIFY_EMAIL_TO = ["secops@example.com"]
    settings.SLACK_WEBHOOK_URL = httpserver.url_for(SLACK_PATH)
    httpserver.expect_request(SLACK_PATH, method="POST").respond_with_data("ok")
    return httpserver


def test_by_default_only_system_masters_may_break_glass(client):
    before = _used("refused_who")
    answer = answer_of(post_review(client, glass_review(REASON)))
    assert answer["allowed"] is False
    assert (
        "break-glass not honoured: this user may not use break-glass"
        in (answer["status"]["message"])
    )
    assert admission_event().data["break_glass_refused"].startswith("this user may not")
    assert _used("refused_who") == before + 1

    master = glass_review(REASON, groups=["system:masters", "system:authenticated"])
    assert answer_of(post_review(client, master))["allowed"] is True


@pytest.mark.usefixtures("eager")
def test_a_use_is_audited_counted_and_sent_to_the_security_team(
    client, settings, channels, mailoutbox
):
    settings.ADMISSION_BREAK_GLASS_USERS = ["alice@example.com"]
    before = _used("used")
    reason = REASON + " <!channel> <https://evil.example|approved>"
    answer = answer_of(post_review(client, glass_review(reason, user="alice@example.com")))
    assert answer["allowed"] is True
    assert answer["warnings"][0].startswith("break-glass (INC-4711 checkout down")
    event = admission_event()
    assert (event.to_state, event.data["user"], event.data["break_glass"]) == (
        "break_glass",
        "alice@example.com",
        reason,
    )
    assert _used("used") == before + 1
    [mail] = mailoutbox
    assert mail.to == ["secops@example.com"]
    assert mail.subject == '[Remediator] break-glass used in "shop/api-7d9c6b5f4d-x2k9p"'
    assert '"alice@example.com"' in mail.body and "CVE-2024-6119" in mail.body
    [(request, _)] = channels.log
    text = request.get_json()["text"]
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text and "<https://" not in text
    notices = AuditEvent.objects.filter(kind="notification", data__event="break_glass")
    assert sorted(notices.values_list("data__channel", flat=True)) == ["email", "slack"]
    assert all(n.data["ok"] and n.data["uid"] == event.object_id for n in notices)


@pytest.mark.parametrize(
    "reason",
    [
        "x",
        "          ",
        "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
        "INC-4711",  # a ticket alone: 7 letters and digits
        "INC-4711 db down\x00 (NUL inside)",
        "INC-4711 db down\nforged: approved by CISO",
        "INC-4711 db down \u202egnissim",  # a right-to-left override
        "INC-4711 db down\u200b",  # a zero-width space
    ],
    ids=["one_char", "blank", "punctuation", "ticket_only", "nul", "newline", "rlo", "zwsp"],
)
def test_a_reason_that_is_not_one_is_refused_and_the_denial_says_what_it_needs(client, reason):
    before = _used("refused_reason")
    master = ["system:masters"]
    answer = answer_of(post_review(client, glass_review(reason, groups=master)))
    assert answer["allowed"] is False
    assert "needs at least 10 letters or digits" in answer["status"]["message"]
    assert "no control characters" in answer["status"]["message"]
    assert _used("refused_reason") == before + 1
    assert admission_event().data["break_glass"] == ""


def test_namespaces_alone_let_anyone_there_and_nowhere_else(client, settings):
    settings.ADMISSION_BREAK_GLASS_GROUPS = []
    settings.ADMISSION_BREAK_GLASS_NAMESPACES = ["dev-*"]
    assert answer_of(post_review(client, glass_review(REASON, namespace="dev-7")))["allowed"]
    answer = answer_of(post_review(client, glass_review(REASON, namespace="shop")))
    assert answer["allowed"] is False and "may not use break-glass" in answer["status"]["message"]


def test_namespaces_and_groups_are_both_required_when_both_are_set(client, settings):
    settings.ADMISSION_BREAK_GLASS_GROUPS = ["oncall"]
    settings.ADMISSION_BREAK_GLASS_NAMESPACES = ["shop"]
    assert answer_of(post_review(client, glass_review(REASON, groups=["oncall"])))["allowed"]
    outside = glass_review(REASON, groups=["oncall"], namespace="payments")
    assert answer_of(post_review(client, outside))["allowed"] is False
    assert answer_of(post_review(client, glass_review(REASON, groups=["devs"])))["allowed"] is False


@pytest.mark.parametrize(
    "switch", [{"ADMISSION_BREAK_GLASS": False}, {"ADMISSION_BREAK_GLASS_GROUPS": []}]
)
def test_switched_off_or_allowed_to_nobody_it_is_refused_as_off(client, settings, switch):
    for name, value in switch.items():
        setattr(settings, name, value)
    before = _used("refused_off")
    body = glass_review(REASON, groups=["system:masters"])
    answer = answer_of(post_review(client, body))
    assert answer["allowed"] is False
    assert "break-glass is not enabled" in answer["status"]["message"]
    assert _used("refused_off") == before + 1


@pytest.mark.usefixtures("eager")
def test_a_dry_run_is_neither_counted_nor_notified(client, channels, mailoutbox):
    before = _used("used")
    body = glass_review(REASON, groups=["system:masters"])
    body["request"]["dryRun"] = True
    assert answer_of(post_review(client, body))["allowed"] is True
    assert _used("used") == before and mailoutbox == [] and channels.log == []


def test_an_annotation_on_an_admitted_review_changes_nothing(client):
    body = glass_review("x")
    body["request"]["object"]["spec"]["containers"][0]["image"] = (
        "registry.example.com/shop/api@sha256:" + "f".rjust(64, "0")
    )
    answer = answer_of(post_review(client, body))
    assert answer == {"uid": body["request"]["uid"], "allowed": True}


def test_the_reason_rule_as_data():
    policy = BreakGlassPolicy(enabled=True, groups=("g",), min_reason=10)
    assert valid_reason("  INC-4711 db is down  ", policy) == "INC-4711 db is down"
    assert valid_reason("Störung 4711 Datenbank", policy)  # letters of any script count
    assert valid_reason("a" * 600, policy) == "a" * 499 + "…"
    assert valid_reason("INC-4711\tdb is down", policy) == ""
