"""``GET /healthz``, ``GET /readyz`` and ``GET /metrics``.

``/healthz``: ``{"status": "ok"}`` from any process that serves requests, whatever the
database, broker or spool are doing (liveness).

``/readyz``: ``{"status": "ready"|"unavailable", "checks": {"database": {...},
"broker": {...}, "spool": {...}}}``, 200 when all three pass, else 503. Each check
says ``ok`` and, when not, the kind of error (never a host name or secret); the three
run at once and the answer comes within ``READYZ_TIMEOUT``, a check still waiting
then being ``"error": "timeout"`` (a broker or database that hangs). Point
load balancers at ``/healthz``: a web process with the database down still takes
webhooks (it spools them); ``/readyz`` is for monitoring and deploy gates.

``/metrics``: Prometheus text. Needs ``Authorization: Bearer <METRICS_TOKEN>`` when
``METRICS_TOKEN`` is set; answers 403 while it is unset, unless
``METRICS_ALLOW_UNAUTHENTICATED=true`` (a scraper on a private network). State is
read at scrape time by :class:`StateCollector` (database and spool directory);
events (ingest, outside calls, spooling) come from ``remediator/core/metrics.py``.
"""

from __future__ import annotations

import hmac
import os
import threading
import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from findings.models import Delivery
from findings.selectors.remediation import aging_counts, findings_scoped, overdue_counts
from findings.selectors.threat_intel import feeds_status
from remediator.core.broker_timeouts import broker_timeout_options
from remediator.engine.models import RemediationAction
from remediator.intake.spool import spool_stats, spool_writable
from remediator.intake.tasks import delivery_process_task


def _check(probe) -> dict:
    started = time.monotonic()
    try:
        error = probe()
    except Exception as exc:  # any failure means "not ready"; say which kind
        error = type(exc).__name__
    result = {"ok": not error, "ms": round((time.monotonic() - started) * 1000, 1)}
    if error:
        result["error"] = error
    return result


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()  # this thread's own connection: never left open behind it
    return ""


def _broker() -> str:
    app = delivery_process_task.app
    timeout = settings.READYZ_TIMEOUT
    bounded = broker_timeout_options(app.conf.broker_write_url, timeout)
    with app.connection_for_write(connect_timeout=timeout, transport_options=bounded) as conn:
        conn.ensure_connection(max_retries=0)
    return ""


PROBES = {"database": _database, "broker": _broker, "spool": spool_writable}


def _checks(deadline: float) -> dict:
    """Run every probe at once, each in its own thread; a probe still waiting at the
    deadline is reported ``{"ok": false, "error": "timeout"}`` and left to finish on its
    own (the database's connect timeout and the broker's socket timeouts end it)."""
    results: dict[str, dict] = {}
    threads = []
    for name, probe in PROBES.items():

        def run(name=name, probe=probe) -> None:
            results[name] = _check(probe)

        thread = threading.Thread(target=run, name=f"readyz-{name}", daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    waited = round(settings.READYZ_TIMEOUT * 1000, 1)
    return {
        name: dict(results.get(name) or {"ok": False, "ms": waited, "error": "timeout"})
        for name in PROBES
    }


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Answers within READYZ_TIMEOUT (and a little), whatever hangs behind it."""
    checks = _checks(time.monotonic() + settings.READYZ_TIMEOUT)
    ready = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


class StateCollector:
    """Gauges computed at scrape time, identical whichever process answers."""

    def collect(self):
        spool = spool_stats()
        yield _gauge("remediator_spool_files", "Webhook bodies waiting in the spool.", spool.files)
        yield _gauge("remediator_spool_bytes", "Size of the spool files.", spool.bytes)
        yield _gauge(
            "remediator_spool_oldest_age_seconds", "Age of the oldest spool file.", spool.oldest_age
        )
        try:
            families = list(_database_families())
        except DatabaseError:
            yield _gauge("remediator_database_up", "1 when the scrape could read the database.", 0)
            return
        yield _gauge("remediator_database_up", "1 when the scrape could read the database.", 1)
        yield from families


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _database_families():
    deliveries = GaugeMetricFamily(
        "remediator_deliveries",
        "Deliveries stored, by source and status.",
        labels=["source", "status"],
    )
    rows = Delivery.objects.order_by().values("source", "status").annotate(n=Count("id"))
    for row in rows:
        deliveries.add_metric([row["source"], row["status"]], row["n"])
    yield deliveries
    queued = Delivery.objects.filter(status=Delivery.Status.QUEUED).aggregate(
        n=Count("id"), oldest=Min("received_at")
    )
    yield _gauge("remediator_queue_depth", "Deliveries queued and not yet processed.", queued["n"])
    oldest = queued["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    yield _gauge(
        "remediator_queue_oldest_age_seconds",
        "How long the oldest queued delivery has waited.",
        age,
    )
    actions = GaugeMetricFamily(
        "remediator_actions", "Remediation actions, by kind and state.", labels=["kind", "state"]
    )
    rows = RemediationAction.objects.order_by().values("kind", "state").annotate(n=Count("id"))
    for row in rows:
        actions.add_metric([row["kind"], row["state"]], row["n"])
    yield actions
    yield from _remediation_families()
    yield from _threat_intel_families()


def _remediation_families():
    """Overdue open findings by team and severity, open findings by age: one grouped
    statement each (``findings.selectors.remediation``)."""
    now = timezone.now()
    overdue = GaugeMetricFamily(
        "remediator_findings_overdue",
        "Open findings past their due date, by owning team (unowned) and severity.",
        labels=["team", "severity"],
    )
    for count in overdue_counts(findings_scoped(), now=now):
        overdue.add_metric([count.key, count.severity], count.count)
    yield overdue
    aging = GaugeMetricFamily(
        "remediator_findings_open_by_age",
        "Open findings by days since first seen (0-30, 30-90, 90-180, 180+) and severity.",
        labels=["bucket", "severity"],
    )
    for count in aging_counts(findings_scoped(), now=now):
        aging.add_metric([count.key, count.severity], count.count)
    yield aging


def _threat_intel_families():
    """The freshness of exploit data: alert when an import has not landed for days."""
    imported = GaugeMetricFamily(
        "remediator_threat_intel_imported_timestamp_seconds",
        "When the EPSS / KEV snapshot in place was imported (Unix time).",
        labels=["feed"],
    )
    size = GaugeMetricFamily(
        "remediator_threat_intel_snapshot_rows",
        "CVEs in the EPSS / KEV snapshot in place.",
        labels=["feed"],
    )
    for feed in feeds_status():
        if feed.imported_at is not None:
            imported.add_metric([feed.feed], feed.imported_at.timestamp())
            size.add_metric([feed.feed], feed.rows)
    yield imported
    yield size


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessRegistry())
    registry.register(StateCollector())
    return registry


class _ProcessRegistry:
    """This process's own counters and histograms (the default registry)."""

    def collect(self):
        return REGISTRY.collect()


def _authorised(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return settings.METRICS_ALLOW_UNAUTHENTICATED
    scheme, _, offered = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        offered.strip().encode(), token.encode()
    )


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _authorised(request):
        detail = (
            "send Authorization: Bearer <METRICS_TOKEN>"
            if settings.METRICS_TOKEN
            else "set METRICS_TOKEN (or METRICS_ALLOW_UNAUTHENTICATED=true) to scrape"
        )
        status = 401 if settings.METRICS_TOKEN else 403
        return JsonResponse({"error": "unauthorized", "detail": detail}, status=status)
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
