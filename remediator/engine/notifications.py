"""Tell people: email (Django's mail backend) and a Slack-compatible incoming webhook.

Sent for: an action awaiting approval, failed, verified, verification failed,
the findings of a ``notify`` action, findings past their deadline (``sla_breach``), and
every break-glass use of admission control (to every configured channel: the security
team). Notifications about an image go to its owning team's channels too
(``notify_routes``). A failure to notify never breaks a
transition: it is logged and audited. The Slack webhook URL is a secret: it is
audited as "slack webhook", never with its path. Text sent to Slack has ``&``, ``<``
and ``>`` escaped as Slack asks, so a name can never become a link or a mention.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import send_mail

from remediator.core.errors import ProviderError
from remediator.engine.audit import audit_record
from remediator.engine.models import RemediationAction
from remediator.integrations.http import CallRecord, HttpClient

from .notify_routes import CHANNELS, Route, routes_for

log = logging.getLogger(__name__)

EVENTS = {
    "awaiting_approval": "needs approval",
    "failed": "failed",
    "verified": "verified: the findings are fixed",
    "verification_failed": "did not fix the findings",
    "findings": "findings need attention",
}


def default_channels() -> list[str]:
    channels = []
    if settings.NOTIFY_EMAIL_TO:
        channels.append("email")
    if settings.SLACK_WEBHOOK_URL:
        channels.append("slack")
    return channels


def channels_for(action: RemediationAction) -> list[str]:
    """The policy's channels when it names some, else every configured channel."""
    chosen = list(action.policy.notify_channels) if action.policy else []
    return [c for c in chosen if c in CHANNELS] or default_channels()


def message_for(action: RemediationAction, event: str) -> tuple[str, str]:
    """(subject, text) of one notification."""
    what = f"{action.get_kind_display().lower()} of {action.tag}"
    subject = f"[Remediator] {what} {EVENTS.get(event, event)}"
    vulns = sorted(set(action.findings.values_list("vulnerability_id", flat=True)))
    lines = [f"Action #{action.pk}: {what} is {action.state}."]
    if vulns:
        more = f" and {len(vulns) - 15} more" if len(vulns) > 15 else ""
        lines.append(f"Findings ({len(vulns)}): {', '.join(vulns[:15])}{more}")
    if action.reason:
        lines.append(f"Reason: {action.reason}")
    if action.error:
        lines.append(f"Error: {action.error}")
    if action.requested_by_id:
        lines.append(f"Requested by: {action.requested_by}")
    if action.external_url:
        lines.append(f"CI run: {action.external_url}")
    if action.risky_marked:
        lines.append("The image is marked risky (disallowed) in Aqua.")
    lines.append(f"Details: {settings.BASE_URL}/api/v1/actions/{action.pk}/")
    return subject, "\n".join(lines)


def _slack_escape(text: str) -> str:
    """Slack's control characters as its entities: no text becomes a link or @channel."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _send_email(route: Route, subject: str, text: str) -> None:
    send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, route.recipients())


def _audit_slack_call(record: CallRecord) -> None:
    audit_record(
        kind="provider_call",
        actor_label="provider:slack",
        message=f"{record.method} slack webhook -> {record.status or record.error}",
        data={
            "provider": "slack",
            "method": record.method,
            "url": "slack webhook",
            "status": record.status,
            "duration_ms": record.duration_ms,
            "error": record.error,
        },
    )


def _send_slack(route: Route, subject: str, text: str) -> None:
    url = route.slack_url()
    client = HttpClient("slack", on_call=_audit_slack_call, retries=settings.NOTIFY_RETRIES)
    try:
        body = {"text": _slack_escape(f"*{subject}*\n{text}")}
        client.request("POST", url, json=body, expected=(200, 204))
    except ProviderError as exc:  # its message holds the URL: say it without
        raise RuntimeError(f"slack webhook answered {exc.status or 'no response'}") from None


SENDERS = {"email": _send_email, "slack": _send_slack}


def notify_send(
    routes: Sequence[Route],
    subject: str,
    text: str,
    *,
    event: str,
    action: RemediationAction | None = None,
    data: dict | None = None,
) -> list[str]:
    """Send one message on each route; the names of the routes that worked. Every attempt
    is audited (kind notification); a failure is logged and never raised."""
    sent = []
    for route in routes:
        ok, message = True, f"{route.name}: {subject}"
        try:
            SENDERS[route.channel](route, subject, text)
        except Exception as exc:  # any failure: log, audit, carry on
            log.warning("%s notification (%s) failed: %s", route.name, event, exc)
            ok, message = False, f"{route.name} notification failed: {exc}"
        else:
            sent.append(route.name)
        audit_record(
            kind="notification",
            action=action,
            actor_label=f"notify:{route.channel}",
            message=message[:1000],
            data={"channel": route.channel, "team": route.team or None, "event": event, "ok": ok}
            | (data or {}),
        )
    return sent


def action_notify(*, action_id: int, event: str) -> list[str]:
    """Send ``event`` about the action on its channels and its image's owning team's;
    returns the routes that worked."""
    action = RemediationAction.objects.select_related(
        "policy", "repository__owner", "tag", "requested_by"
    ).get(pk=action_id)
    subject, text = message_for(action, event)
    routes = routes_for(action.repository.owner, channels_for(action))
    return notify_send(routes, subject, text, event=event, action=action)


def _quoted(value: object) -> str:
    """A name from a review, quoted as JSON: control characters escaped, on one line."""
    return json.dumps(str(value), ensure_ascii=False)


def break_glass_message(notice: dict) -> tuple[str, str]:
    """(subject, text) telling the security team a break-glass annotation was used."""
    where = f"{notice.get('namespace', '')}/{notice.get('name', '')}"
    subject = f"[Remediator] break-glass used in {_quoted(where)}"
    cves = notice.get("vulnerabilities") or []
    lines = [
        f"User {_quoted(notice.get('user', ''))} admitted {_quoted(notice.get('kind', ''))} "
        f"{_quoted(where)} that admission policy would deny.",
        f"Reason: {_quoted(notice.get('reason', ''))}",
        f"Groups: {', '.join(_quoted(g) for g in notice.get('groups', [])) or 'none'}",
        f"Cluster: {_quoted(notice.get('cluster', ''))}; review uid {_quoted(notice.get('uid'))}",
    ]
    if cves:
        lines.append(f"Vulnerabilities: {', '.join(_quoted(c) for c in cves)}")
    lines.append(f"Audit trail: {settings.BASE_URL}/audit/?kind=admission")
    return subject, "\n".join(lines)


def break_glass_notify(notice: dict) -> list[str]:
    """Send a break-glass notice on every global channel (the security team); the
    channels that worked. Each attempt is audited against the review's uid."""
    subject, text = break_glass_message(notice)
    routes = [Route(channel) for channel in default_channels()]
    if not routes:
        log.warning("break-glass used but no notification channel is set: %s", subject)
    return notify_send(routes, subject, text, event="break_glass", data={"uid": notice.get("uid")})
