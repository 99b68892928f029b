"""Findings past their deadline: one message per owning team, never twice for a
finding; every notification about an image reaches its team's channels too."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from findings.models import Finding, Repository
from remediator.engine.models import AuditEvent
from remediator.engine.notifications import action_notify
from remediator.engine.tasks import sla_breaches_notify_task
from tests.dashboard.factories import make_action, make_findings, make_tag

pytestmark = pytest.mark.django_db
GLOBAL_SLACK = "/services/T0/B0/GLOBALSECRET"
SHOP_SLACK = "/services/T1/B1/SHOPSECRET"


@pytest.fixture
def channels(settings, httpserver, monkeypatch, shop):
    settings.NOTIFY_EMAIL_TO = ["secops@example.com"]
    settings.SLACK_WEBHOOK_URL = httpserver.url_for(GLOBAL_SLACK)
    settings.NOTIFY_TEAMS_ONLY = False
    monkeypatch.setenv("REMEDIATOR_SECRET_SHOP_SLACK", httpserver.url_for(SHOP_SLACK))
    httpserver.expect_request(GLOBAL_SLACK, method="POST").respond_with_data("ok")
    httpserver.expect_request(SHOP_SLACK, method="POST").respond_with_data("ok")
    return settings


@pytest.fixture
def overdue(shop) -> dict[str, list[Finding]]:
    """Two overdue findings of the shop's image, one of an unowned image, and one of the
    shop's not yet due."""
    now = timezone.now()
    shop_rows = make_findings(make_tag("shop/web", tag="2.1"), 3, severities=["critical"])
    loose = make_findings(make_tag("misc/tool"), 1, severities=["high"])
    Repository.objects.filter(name="shop/web").update(owner=shop)
    for finding, days in zip([*shop_rows, *loose], [5, 1, -3, 12], strict=True):
        Finding.objects.filter(pk=finding.pk).update(due_at=now - timedelta(days=days, hours=1))
    return {"shop": shop_rows[:2], "later": shop_rows[2:], "unowned": loose}


def slack_posts(httpserver, path: str) -> list[str]:
    return [r.get_json()["text"] for r, _ in httpserver.log if r.path == path]


def test_each_team_is_told_once_about_its_overdue_findings(
    channels, overdue, httpserver, mailoutbox
):
    told = sla_breaches_notify_task()

    assert told == 3
    by_to = {tuple(m.to): m for m in mailoutbox}
    assert set(by_to) == {("shop@example.com",), ("secops@example.com",)}
    assert len(mailoutbox) == 3  # the shop's (to the shop and secops), the unowned one
    shop_mail = by_to[("shop@example.com",)]
    assert shop_mail.subject == "[Remediator] 2 finding(s) past their deadline: Shop"
    for finding in overdue["shop"]:
        assert finding.vulnerability_id in shop_mail.body
    assert overdue["later"][0].vulnerability_id not in shop_mail.body
    assert "image registry.test/shop/web:2.1: overdue by 6 day(s)" in shop_mail.body
    assert "overdue by 2 day(s)" in shop_mail.body
    [team_post] = slack_posts(httpserver, SHOP_SLACK)
    assert "past their deadline: Shop" in team_post
    assert len(slack_posts(httpserver, GLOBAL_SLACK)) == 2
    unowned = [m for m in mailoutbox if "unowned images" in m.subject]
    assert len(unowned) == 1 and overdue["unowned"][0].vulnerability_id in unowned[0].body
    assert Finding.objects.filter(sla_breach_notified_at__isnull=False).count() == 3

    again = sla_breaches_notify_task()

    assert again == 0 and len(mailoutbox) == 3
    assert len(httpserver.log) == 3


def test_a_finding_that_becomes_overdue_later_is_told_then_alone(
    channels, overdue, httpserver, mailoutbox
):
    sla_breaches_notify_task()
    later = overdue["later"][0]
    Finding.objects.filter(pk=later.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    mailoutbox.clear()

    assert sla_breaches_notify_task() == 1

    shop_mail = next(m for m in mailoutbox if m.to == ["shop@example.com"])
    assert shop_mail.subject.startswith("[Remediator] 1 finding(s)")
    assert later.vulnerability_id in shop_mail.body


def test_teams_only_sends_a_teams_findings_to_the_team_alone(
    channels, overdue, httpserver, mailoutbox
):
    channels.NOTIFY_TEAMS_ONLY = True

    sla_breaches_notify_task()

    shop_mails = [m for m in mailoutbox if "Shop" in m.subject]
    assert [m.to for m in shop_mails] == [["shop@example.com"]]
    unowned = [m for m in mailoutbox if "unowned" in m.subject]
    assert [m.to for m in unowned] == [["secops@example.com"]]
    assert len(slack_posts(httpserver, SHOP_SLACK)) == 1
    assert len(slack_posts(httpserver, GLOBAL_SLACK)) == 1


def test_action_notifications_reach_the_owning_team_and_keep_its_url_secret(
    channels, shop, httpserver, mailoutbox
):
    tag = make_tag("shop/api")
    Repository.objects.filter(pk=tag.repository_id).update(owner=shop)
    action = make_action(tag, findings=make_findings(tag, 1))

    sent = action_notify(action_id=action.pk, event="failed")

    assert sent == ["email", "slack", "email:shop", "slack:shop"]
    assert sorted(m.to[0] for m in mailoutbox) == ["secops@example.com", "shop@example.com"]
    assert len(slack_posts(httpserver, SHOP_SLACK)) == 1
    events = AuditEvent.objects.filter(kind="notification")
    assert {e.data["team"] for e in events} == {None, "shop"}
    texts = " ".join(f"{e.message} {json.dumps(e.data)}" for e in AuditEvent.objects.all())
    assert "SHOPSECRET" not in texts and "GLOBALSECRET" not in texts


def test_a_team_webhook_that_is_not_set_fails_alone_and_is_audited(
    channels, shop, httpserver, mailoutbox, monkeypatch
):
    monkeypatch.delenv("REMEDIATOR_SECRET_SHOP_SLACK")
    tag = make_tag("shop/api")
    Repository.objects.filter(pk=tag.repository_id).update(owner=shop)
    action = make_action(tag, findings=make_findings(tag, 1))

    sent = action_notify(action_id=action.pk, event="failed")

    assert sent == ["email", "slack", "email:shop"]
    failed = AuditEvent.objects.get(kind="notification", data__ok=False)
    assert failed.message == (
        "slack:shop notification failed: environment variable "
        "REMEDIATOR_SECRET_SHOP_SLACK is not set"
    )


def test_a_team_webhook_named_outside_the_secret_prefix_is_refused(
    channels, shop, httpserver, mailoutbox, monkeypatch
):
    shop.slack_webhook_env = "SLACK_WEBHOOK_URL"
    shop.save()
    tag = make_tag("shop/api")
    Repository.objects.filter(pk=tag.repository_id).update(owner=shop)
    action = make_action(tag, findings=make_findings(tag, 1))

    sent = action_notify(action_id=action.pk, event="failed")

    assert "slack:shop" not in sent
    assert len(slack_posts(httpserver, GLOBAL_SLACK)) == 1  # the global post only
