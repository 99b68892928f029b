"""Checklist items read from settings and the environment: webhook secrets, BASE_URL,
notification channels, the Aqua connection, exploit data (EPSS/KEV)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.timesince import timesince

from findings.models import Delivery, ThreatIntelFeed
from findings.parsers import SOURCES
from remediator.core.secrets import MissingSecret, read_secret, webhook_secret_names
from remediator.engine.models import ActionKind, AuditEvent, Policy
from remediator.engine.notifications import default_channels
from remediator.integrations.aqua.client import AquaClient

from .items import Item, Status
from .pings import Pings

WEBHOOKS = "Webhooks"
LINKS = "Links"
EXPLOIT_DATA = "Exploit data"
NOTIFICATIONS = "Notifications"
AQUA = "Aqua"


def _ago(when) -> str:
    return f"{timesince(when)} ago"


def _secret_state(name: str) -> str:
    """'set', 'not set', or why it cannot be read (never the value)."""
    try:
        return "set" if read_secret(name, required=False).strip(", ") else "not set"
    except MissingSecret:
        return f"{name}_FILE cannot be read"


def _source_item(source: str, status: Status, detail: str) -> Item:
    own_name = webhook_secret_names(source)[0]
    return Item(
        key=f"webhook-{source}",
        area=WEBHOOKS,
        title=f"Webhook secret for {source}",
        status=status,
        detail=detail,
        fix="" if status == Status.OK else f"set {own_name} (or WEBHOOK_SECRET) in .env, restart",
    )


def webhook_items() -> list[Item]:
    """Whether any scanner can post; one item per source that has a secret, or that has
    sent reports before (and would be refused now)."""
    shared = _secret_state("WEBHOOK_SECRET")
    open_to_all = settings.WEBHOOK_ALLOW_UNAUTHENTICATED
    accepting, refused, items = [], [], []
    for source in SOURCES:
        own_name = webhook_secret_names(source)[0]
        own = _secret_state(own_name)
        url = f"{settings.BASE_URL}/api/v1/webhooks/{source}/"
        if own == "set" or shared == "set":
            accepting.append(source)
            setting = own_name if own == "set" else "WEBHOOK_SECRET"
            items.append(_source_item(source, Status.OK, f"{setting} is set: {url} accepts."))
            continue
        refused.append(source)
        if Delivery.objects.filter(source=source).exists():
            status = Status.WARNING if open_to_all else Status.MISSING
            detail = (
                f"{own_name}: {own}; WEBHOOK_SECRET: {shared}. This source has sent reports "
                + ("and anyone may post now." if open_to_all else "but its posts are refused now.")
            )
            items.append(_source_item(source, status, detail))
    if open_to_all:
        status = Status.WARNING
        detail = "WEBHOOK_ALLOW_UNAUTHENTICATED is on: anyone may post to sources without a secret."
        fix = "set WEBHOOK_SECRET, then WEBHOOK_ALLOW_UNAUTHENTICATED=false"
    elif accepting:
        status, fix = Status.OK, ""
        detail = f"Accepting reports from {', '.join(accepting)}."
        if refused:
            detail += f" Refusing {', '.join(refused)} (no secret: WEBHOOK_SECRET_<SOURCE>)."
    else:
        status = Status.MISSING
        detail = "No webhook secret is set: every scanner's post is refused (401)."
        fix = "set WEBHOOK_SECRET (or WEBHOOK_SECRET_<SOURCE>, e.g. WEBHOOK_SECRET_AQUA) in .env"
    summary = Item(
        key="webhooks",
        area=WEBHOOKS,
        title="Scanners can post reports",
        status=status,
        detail=detail,
        fix=fix,
        required=not open_to_all,
    )
    return [summary, *items]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def base_url_item(serving: str = "") -> Item:
    """BASE_URL (links in the API, admission messages, CI variables and notifications)
    against ``serving``, the address this request came to ('' from the command line)."""
    base = settings.BASE_URL
    host = urlsplit(base).hostname or ""
    allowed = settings.ALLOWED_HOSTS
    fix = f"set BASE_URL={_origin(serving) if serving else 'https://<this host>'} in .env"
    if serving and _origin(serving) != _origin(base):
        status = Status.WARNING
        detail = (
            f"BASE_URL is {base}, but this page is served from {_origin(serving)}: links sent "
            "to CI jobs, admission messages and notifications point elsewhere."
        )
    elif "*" not in allowed and host not in {h.strip("[]") for h in allowed}:
        status = Status.WARNING
        detail = f"BASE_URL's host {host} is not in ALLOWED_HOSTS: its links would answer 400."
        fix = f"add {host} to ALLOWED_HOSTS, or set BASE_URL to an allowed host"
    else:
        status, detail, fix = Status.OK, f"Links sent outside point to {base}.", ""
    return Item(key="base-url", area=LINKS, title="BASE_URL", status=status, detail=detail, fix=fix)


def threat_intel_items() -> list[Item]:
    """EPSS and KEV: imported, and recently enough."""
    feeds = {f.feed: f for f in ThreatIntelFeed.objects.all()}
    max_age = timedelta(hours=2 * settings.THREAT_INTEL_REFRESH_HOURS)
    items = []
    for feed, url_setting in (("epss", "EPSS_URL"), ("kev", "KEV_URL")):
        label = feed.upper()
        row = feeds.get(feed)
        scheduled = bool(getattr(settings, url_setting))
        fix = (
            f"set {url_setting} (imported daily by beat), "
            f"or manage.py threat_intel_import --{feed} FILE"
        )
        if row is None or row.imported_at is None:
            status = Status.WARNING
            detail = f"{label} was never imported: policy rules on {label} match nothing."
        elif timezone.now() - row.imported_at > max_age:
            status = Status.WARNING
            detail = f"{label} {row.version} was imported {_ago(row.imported_at)}: stale."
        else:
            status = Status.OK
            detail = f"{label} {row.version}, {row.rows} CVEs, imported {_ago(row.imported_at)}."
            fix = "" if scheduled else fix
        if row is not None and row.refused_at:
            detail += f" The last import was refused {_ago(row.refused_at)} ({row.refused_reason})."
        if not scheduled:
            detail += f" {url_setting} is not set: no scheduled import."
        items.append(
            Item(
                key=f"intel-{feed}",
                area=EXPLOIT_DATA,
                title=label,
                status=status,
                detail=detail,
                fix=fix,
            )
        )
    return items


def notification_item() -> Item:
    channels = default_channels()
    fix = "set NOTIFY_EMAIL_TO (and EMAIL_URL) or SLACK_WEBHOOK_URL in .env"
    if not channels:
        return Item(
            key="notifications",
            area=NOTIFICATIONS,
            title="Notification channels",
            status=Status.WARNING,
            detail="No channel: nobody is told of approvals waiting, failures or fixes.",
            fix=fix,
        )
    console = "email" in channels and settings.EMAIL_BACKEND.endswith(".console.EmailBackend")
    if console:
        detail = "Email goes to the console (EMAIL_URL is consolemail://): printed, not sent."
        return Item(
            key="notifications",
            area=NOTIFICATIONS,
            title="Notification channels",
            status=Status.WARNING,
            detail=detail,
            fix="set EMAIL_URL to your SMTP server",
        )
    return Item(
        key="notifications",
        area=NOTIFICATIONS,
        title="Notification channels",
        status=Status.OK,
        detail=f"Configured: {', '.join(channels)}.",
    )


def _last_aqua_success():
    calls = AuditEvent.objects.filter(
        kind=AuditEvent.Kind.PROVIDER_CALL,
        actor_label="provider:aqua",
        data__status__gte=200,
        data__status__lt=300,
    )
    return calls.order_by("-id").values_list("created_at", flat=True).first()


def aqua_item(pings: Pings | None) -> Item:
    """Configured? Needed (a policy re-scans or marks images risky)? Last successful call."""
    needing = list(
        Policy.objects.filter(
            enabled=True, action__in=(ActionKind.RESCAN, ActionKind.MARK_RISKY)
        ).values_list("name", flat=True)[:5]
    )
    title = "Aqua connection"
    if not AquaClient.configured():
        if needing:
            return Item(
                key="aqua",
                area=AQUA,
                title=title,
                status=Status.MISSING,
                required=True,
                detail=f"Policies {', '.join(needing)} ask Aqua, but AQUA_URL is not set.",
                fix="set AQUA_URL and AQUA_USERNAME/AQUA_PASSWORD (or AQUA_API_KEY) in .env",
            )
        return Item(
            key="aqua",
            area=AQUA,
            title=title,
            status=Status.OK,
            detail="Not configured; only re-scan and mark-risky actions need it.",
        )
    last = _last_aqua_success()
    detail = f"AQUA_URL is {settings.AQUA_URL}; "
    detail += f"last successful call {_ago(last)}." if last else "no successful call yet."
    if pings is not None and pings.aqua:
        return Item(
            key="aqua",
            area=AQUA,
            title=title,
            status=Status.MISSING,
            required=bool(needing),
            detail=f"{detail} Login failed {_ago(pings.as_of)}: {pings.aqua}",
            fix="check AQUA_URL and its credentials, then manage.py check_setup --ping",
        )
    if pings is not None and pings.aqua == "":
        detail += f" Login worked {_ago(pings.as_of)}."
    status = Status.OK if last or (pings is not None and pings.aqua == "") else Status.WARNING
    return Item(
        key="aqua",
        area=AQUA,
        title=title,
        status=status,
        detail=detail,
        fix="" if status == Status.OK else "manage.py check_setup --ping",
    )
