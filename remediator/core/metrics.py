"""Prometheus metrics measured where things happen (web, worker, beat processes).

Counters and histograms only: they add up across processes. With
``PROMETHEUS_MULTIPROC_DIR`` set (a directory shared by one machine's gunicorn and
Celery processes, emptied when they start), prometheus-client writes them to files
there and ``/metrics`` sums every process's files; without it each process counts
for itself and ``/metrics`` shows the answering web process only. Figures that are
state, not events (deliveries by status, queue depth, actions by state, spool size),
are read from the database and the spool directory at scrape time instead
(``remediator/api/operability.py``), so they are right however many processes run.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

INGEST_SECONDS = Histogram(
    "remediator_ingest_duration_seconds",
    "Time to ingest one report (parse excluded): upsert scan, vulnerabilities, findings.",
    ["source"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
INGEST_FINDINGS = Counter(
    "remediator_ingest_findings",
    "Distinct findings in ingested reports (rate() of it: findings/s).",
    ["source"],
)
PROVIDER_SECONDS = Histogram(
    "remediator_provider_call_duration_seconds",
    "Outside calls (CI, Aqua, Harbor, webhooks), retries included.",
    ["provider", "method"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
PROVIDER_ERRORS = Counter(
    "remediator_provider_call_errors",
    "Outside calls that failed: no answer (kind=connection) or an HTTP status >= 400.",
    ["provider", "kind"],
)
WEBHOOK_SPOOLED = Counter(
    "remediator_webhook_spooled",
    "Webhook bodies written to the spool because the database could not store them.",
    ["source"],
)
WEBHOOK_SPOOL_FAILED = Counter(
    "remediator_webhook_spool_failures",
    "Webhook bodies neither stored nor spooled: answered 503 with Retry-After.",
    ["source"],
)
WEBHOOK_SPOOL_FULL = Counter(
    "remediator_webhook_spool_full",
    "Webhook bodies not kept because the spool held WEBHOOK_SPOOL_MAX_BYTES: answered 503.",
    ["source"],
)
SPOOL_REPLAYED = Counter(
    "remediator_spool_replayed",
    "Spool files replayed: stored (new delivery), duplicate (already stored), bad (set aside).",
    ["outcome"],
)


def provider_call_observe(provider: str, method: str, seconds: float, status: int | None) -> None:
    PROVIDER_SECONDS.labels(provider=provider, method=method).observe(seconds)
    if status is None:
        PROVIDER_ERRORS.labels(provider=provider, kind="connection").inc()
    elif status >= 400:
        PROVIDER_ERRORS.labels(provider=provider, kind=f"{status // 100}xx").inc()


def ingest_observe(source: str, seconds: float, findings: int) -> None:
    INGEST_SECONDS.labels(source=source).observe(seconds)
    INGEST_FINDINGS.labels(source=source).inc(findings)


ADMISSION_DECISIONS = Counter(
    "remediator_admission_decisions",
    "Admission reviews answered: allow, warn, deny, break_glass (the webhook and the CLI).",
    ["outcome"],
)
ADMISSION_SECONDS = Histogram(
    "remediator_admission_duration_seconds",
    "Time to answer one admission review (body read to answer built).",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
ADMISSION_CACHE = Counter(
    "remediator_admission_cache",
    "Image facts looked up for admission: answered from the cache (hit) or the database (miss).",
    ["result"],
)
ADMISSION_BREAK_GLASS = Counter(
    "remediator_admission_break_glass",
    "Break-glass annotations on reviews that policy would deny: used (admitted), or refused "
    "because it is off (refused_off), the user or namespace may not (refused_who), or the "
    "reason is not one (refused_reason). Dry runs are not counted.",
    ["result"],
)
ADMISSION_UNJUDGED = Counter(
    "remediator_admission_unjudged",
    "Reviews answered without judging every image: past ADMISSION_MAX_CONTAINERS or "
    "ADMISSION_MAX_IMAGES (reason=cap, denied) or ADMISSION_DEADLINE_SECONDS (reason=deadline, "
    "answered as for unknown images).",
    ["reason"],
)
AUDIT_WRITE_FAILURES = Counter(
    "remediator_audit_write_failures",
    "Audit events the database refused even written one by one: logged (quoted), not stored.",
    ["kind"],
)
ADMISSION_TAG_LOOKUPS = Counter(
    "remediator_admission_tag_lookups",
    "Tags of admission reviews looked up at their registry: resolved to a digest, missing "
    "(no such tag), unverified (the registry could not be asked) or remembered (cached).",
    ["result"],
)

THREAT_INTEL_REFUSED = Counter(
    "remediator_threat_intel_refused",
    "EPSS/KEV imports refused: count, skipped, future, stale, shrunk (not a believable "
    "snapshot), format (not the feed's format), download (not fetched in time), "
    "time_limit (the beat task's), unreadable (a path).",
    ["feed", "reason"],
)


def threat_intel_refused_count(feed: str, reason: str) -> None:
    THREAT_INTEL_REFUSED.labels(feed=feed, reason=reason).inc()
