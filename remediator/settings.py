"""One settings module; every knob comes from the environment (django-environ).

Secrets may also be read from a file: for any secret ``NAME``, ``NAME_FILE``
names a file whose content is used instead (Docker/Kubernetes secrets).
"""

import re
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from remediator.core.broker_timeouts import broker_timeout_options
from remediator.core.database_timeouts import postgres_statement_timeout
from remediator.core.disk import default_spool_max_bytes

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")


def env_secret(name: str, default: str = "") -> str:
    """The secret ``name`` from the environment, or from the file ``name_FILE``."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read: {exc}") from exc
    return env.str(name, default=default)


DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _persistent_secret_key() -> str:
    """A key kept in DATA_DIR, so the embedded default needs no configuration."""
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_secret("SECRET_KEY") or _persistent_secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
BASE_URL = env.str("BASE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}")
BASE_URL = BASE_URL.rstrip("/")
"""Where people and CI jobs reach this instance (used in links sent outside). By default
what `make run` serves: http://127.0.0.1:$PORT (the Makefile exports it to every process,
as honcho gives each process type its own PORT)."""

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "remediator.apps.ProjectConfig",
    "remediator.teams",
    "findings",
    "remediator.integrations",
    "remediator.intake",
    "remediator.cluster",
    "remediator.engine",
    "remediator.dashboard",
]

MIDDLEWARE = [
    # /healthz and /readyz answer before Host validation: probes call a pod by its IP.
    "remediator.api.probes.ProbesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "remediator.api.guards.AdminNulGuard",  # the admin sends NUL to PostgreSQL as given
]

ROOT_URLCONF = "remediator.urls"
WSGI_APPLICATION = "remediator.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: embedded SQLite by default, DATABASE_URL (PostgreSQL) in production.
# The three service URLs carry passwords: each may come from a file (DATABASE_URL_FILE...).
DATABASES = {
    "default": environ.Env.db_url_config(
        env_secret("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'remediator.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and the writer work together; IMMEDIATE transactions take
    # the write lock up front and the busy timeout waits for it, so the web
    # process and the worker queue up instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=30),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not shared-cache memory: a Celery worker thread in the tests
    # then sees committed rows and waits on locks like production does.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-remediator.sqlite3")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
WORKER_CONN_MAX_AGE = env.int("WORKER_CONN_MAX_AGE", default=60)
"""A Celery worker's CONN_MAX_AGE (seconds; 0: a new connection per task), with Django's
check of a kept connection before each task uses it (CONN_HEALTH_CHECKS). A new
PostgreSQL backend per task plans every statement on cold catalog caches: 26.6 fleet
scans/s on 2 processes that way, 38.5 with kept connections (docs/production.md)."""
# A PostgreSQL server that hangs (a stopped process, a network partition) instead of
# refusing must not hold a request for ever: connecting is bounded, and so is every
# statement of a live server. Web processes get the short statement timeout
# (remediator/wsgi.py); workers, beat and manage.py the long one (ingesting a
# 20,000-finding report, a migration). TCP keepalives and tcp_user_timeout notice a
# partitioned connection in about 25 s; a server that is stopped (SIGSTOP) keeps
# answering TCP, so a statement already sent waits for it to resume (docs/scanners.md, "When the
# database is down or hangs").
DATABASE_CONNECT_TIMEOUT = env.int("DATABASE_CONNECT_TIMEOUT", default=5)
"""Seconds to wait for PostgreSQL to accept a connection; then the webhook spools."""
DATABASE_STATEMENT_TIMEOUT = env.float("DATABASE_STATEMENT_TIMEOUT", default=30.0)
"""Longest statement of a web request (seconds; 0: none)."""
DATABASE_WORKER_STATEMENT_TIMEOUT = env.float("DATABASE_WORKER_STATEMENT_TIMEOUT", default=600.0)
"""Longest statement of a worker, beat or manage.py command (seconds; 0: none)."""
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"] = {
        "connect_timeout": DATABASE_CONNECT_TIMEOUT,
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": 25_000,
        **DATABASES["default"].get("OPTIONS", {}),
    }
    postgres_statement_timeout(DATABASES["default"], DATABASE_WORKER_STATEMENT_TIMEOUT)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(DATA_DIR / "static"))).resolve()
"""The container image collects static files into /app/staticfiles at build time."""
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
"""make run serves static files from the app directories; the image from STATIC_ROOT."""

# --- Celery: a SQLite file as broker by default, Redis or RabbitMQ in production.
CELERY_BROKER_URL = env_secret(
    "CELERY_BROKER_URL",
    default=f"sqlite-embedded+sqlite:///{DATA_DIR / 'celery-broker.sqlite3'}?timeout=30",
)
# Every broker operation is bounded (remediator/core/broker_timeouts.py says what bounds
# each transport): a broker that accepts connections and never answers must hold no web
# request, command or worker. A process whose publish failed leaves deliveries to the
# sweep for BROKER_BACKOFF seconds (remediator/intake/publish.py), so a hanging broker
# costs one wait per process, not one per request.
BROKER_TIMEOUT = env.float("BROKER_TIMEOUT", default=3.0)
"""Seconds one broker operation (connect, one read) may wait; a publish makes at most three."""
BROKER_BACKOFF = env.float("BROKER_BACKOFF", default=15.0)
"""After a failed publish, seconds a process hands deliveries to the sweep without trying."""
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = broker_timeout_options(CELERY_BROKER_URL, BROKER_TIMEOUT)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_DB_REUSE_MAX = 1 << 30
"""Celery's Django fixup closes the database connection around every task unless told to
reuse it this many times: remediator/celery.py closes it by age instead
(WORKER_CONN_MAX_AGE), as Django does around a web request."""
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {}
# Three queues, so that a flood of scans never delays a person's approve-and-
# rebuild: "ingest" (parse + ingest, and the policy run after each scan), "actions"
# (dispatch, poll, notify) and "housekeeping" (beat's sweeps and refreshes). The Procfile's
# worker consumes all three (WORKER_QUEUES); at scale, give "actions" its own worker.
CELERY_TASK_DEFAULT_QUEUE = "ingest"
CELERY_TASK_QUEUES = [Queue("ingest"), Queue("actions"), Queue("housekeeping")]
CELERY_TASK_ROUTES = {
    "findings.delivery_process": {"queue": "ingest"},
    "remediator.scan_evaluate": {"queue": "ingest"},
    "remediator.action_dispatch": {"queue": "actions"},
    "remediator.action_poll": {"queue": "actions"},
    "remediator.action_notify": {"queue": "actions"},
    "remediator.action_pull_request_update": {"queue": "actions"},
    "findings.*": {"queue": "housekeeping"},
    "remediator.*": {"queue": "housekeeping"},
}

# --- REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "remediator.api.schema.ApiAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",  # the API takes JSON bodies only
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Remediator API",
    "DESCRIPTION": "Scan results in, verified fixes out.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "remediator.api.schema_plain_views.schema_postprocess",
    ],
}

# --- Ingestion (remediator/intake)
INGEST_MAX_BYTES = env.int(
    "INGEST_MAX_BYTES", default=env.int("WEBHOOK_MAX_BYTES", default=64 * 1024 * 1024)
)
"""Largest report body a webhook accepts (413 past it, never stored). WEBHOOK_MAX_BYTES, its
older name, is still read when INGEST_MAX_BYTES is not set."""
# Bodies up to this size are recognised at post time from the report's head (422 for an
# unusable report); larger ones are answered 202 once stored and their JSON syntax checked,
# undecoded, and decoded and checked by the worker.
WEBHOOK_CHECK_MAX_BYTES = env.int("WEBHOOK_CHECK_MAX_BYTES", default=256 * 1024)
SCAN_TIME_MAX_SKEW_SECONDS = env.int("SCAN_TIME_MAX_SKEW_SECONDS", default=300)
"""A report dated further in the future than this counts as scanned when received."""

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # urllib3 logs retried URLs, and some URLs carry a secret (Slack webhooks).
        "urllib3.connectionpool": {"level": "ERROR"},
    },
}

# --- Outside systems (remediator/integrations): timeouts in seconds, retries with backoff.
PROVIDER_CONNECT_TIMEOUT = env.float("PROVIDER_CONNECT_TIMEOUT", default=5.0)
PROVIDER_READ_TIMEOUT = env.float("PROVIDER_READ_TIMEOUT", default=30.0)
PROVIDER_RETRIES = env.int("PROVIDER_RETRIES", default=4)
PROVIDER_RETRY_BACKOFF = env.float("PROVIDER_RETRY_BACKOFF", default=0.5)
GITHUB_RATE_LIMIT_MAX_WAIT = env.float("GITHUB_RATE_LIMIT_MAX_WAIT", default=900.0)
"""Longest one task retry waits for a GitHub rate limit's reset (no worker waits: the task is
retried then); a reset further away takes several retries, each counted in
ACTION_DISPATCH_RETRIES. 15 minutes: under the Redis visibility timeout, and 6 retries cover
GitHub's one-hour primary window."""

# --- Aqua API client (remediator/integrations/aqua): self-hosted console, user + password.
AQUA_URL = env.str("AQUA_URL", default="").rstrip("/")
AQUA_USERNAME = env.str("AQUA_USERNAME", default="")
AQUA_PASSWORD = env_secret("AQUA_PASSWORD")
AQUA_VERIFY_TLS = env.bool("AQUA_VERIFY_TLS", default=True)
AQUA_CA_BUNDLE = env.str("AQUA_CA_BUNDLE", default="")
"""A PEM file of CA certificates to trust for AQUA_URL (when it uses a private CA)."""
AQUA_REGISTRY_NAMES = env.dict("AQUA_REGISTRY_NAMES", default={})
"""Registry host -> Aqua registry integration name, e.g. "docker.io=Docker Hub,ghcr.io=GHCR"."""
# Aqua Platform (SaaS): AQUA_URL is the tenant's workload-protection URL; tokens come from
# the regional AQUA_AUTH_URL, by API key + secret (HMAC-signed) or by user + password.
AQUA_AUTH_URL = env.str("AQUA_AUTH_URL", default="").rstrip("/")
"""e.g. https://api.cloudsploit.com or https://eu-1.api.cloudsploit.com; empty: self-hosted."""
# AQUA_API_KEY / AQUA_API_SECRET (or their _FILE) are read when a token is needed
# (remediator/core/secrets.py), never kept in settings.
AQUA_TOKEN_VALIDITY_MINUTES = env.int("AQUA_TOKEN_VALIDITY_MINUTES", default=240)
"""How long an API-key token is asked to live, in minutes (Aqua's Terraform provider asks 1500)."""

# --- Webhook receivers, delivery processing and the REST API (remediator/api).
# Secrets: WEBHOOK_SECRET_<SOURCE> (e.g. WEBHOOK_SECRET_TRIVY), else WEBHOOK_SECRET; a
# comma-separated list rotates; *_FILE reads it from a file. Read per request
# (remediator.core.secrets).
WEBHOOK_ALLOW_UNAUTHENTICATED = env.bool("WEBHOOK_ALLOW_UNAUTHENTICATED", default=False)
"""Accept posts to sources with no secret configured (local trials only)."""
DELIVERY_SWEEP_AFTER = env.float("DELIVERY_SWEEP_AFTER", default=30.0)
"""Seconds a delivery may sit queued and never enqueued before the sweep enqueues it."""
DELIVERY_REQUEUE_AFTER = env.float("DELIVERY_REQUEUE_AFTER", default=45.0)
"""Seconds after which an enqueued but unfinished delivery is enqueued again (lost task)."""
DELIVERY_MAX_RETRIES = env.int("DELIVERY_MAX_RETRIES", default=8)
DELIVERY_RETRY_BACKOFF = env.float("DELIVERY_RETRY_BACKOFF", default=15.0)
DELIVERY_RETRY_BACKOFF_MAX = env.float("DELIVERY_RETRY_BACKOFF_MAX", default=600.0)
DELIVERY_DATABASE_RETRY_MAX = env.float("DELIVERY_DATABASE_RETRY_MAX", default=10.0)
"""A delivery task that finds the database down retries after 1, 2, 4, 8... seconds, at
most this far apart: it runs within about this long of the database coming back."""
DELIVERY_BODY_PREVIEW_BYTES = env.int("DELIVERY_BODY_PREVIEW_BYTES", default=16 * 1024)
CELERY_BEAT_SCHEDULE["findings-delivery-sweep"] = {
    "task": "findings.delivery_sweep",
    "schedule": env.float("DELIVERY_SWEEP_INTERVAL", default=15.0),
}
# Harbor API (remediator/integrations/harbor); HARBOR_PASSWORD / HARBOR_PASSWORD_FILE is read
# at call time.
HARBOR_URL = env.str("HARBOR_URL", default="").rstrip("/")
HARBOR_USERNAME = env.str("HARBOR_USERNAME", default="")
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "DeliveryStatusEnum": "findings.models.Delivery.Status",
        "FindingStatusEnum": "findings.models.Finding.Status",
        "SeverityEnum": "findings.models.Severity",
        "SourceEnum": "findings.models.Source",
    }
)

# --- Dashboard (templates/, static/, remediator/dashboard/)
SETUP_PING_MAX_AGE = env.int("SETUP_PING_MAX_AGE", default=300)
"""Seconds the go-live checklist shows a reachability check before asking a worker again."""
TEMPLATES[0]["OPTIONS"]["context_processors"].append("remediator.dashboard.context.nav")
DASHBOARD_SCREENSHOTS_DIR = BASE_DIR / "var" / "screenshots"

# --- Remediation engine (remediator/engine/).
ACTION_COOLDOWN_MINUTES = env.int("ACTION_COOLDOWN_MINUTES", default=60)
"""After an action of a kind failed (or failed verification, or was rejected) for a tag,
no new one of that kind for that tag for this long."""
MANUAL_REBUILD_REQUIRES_APPROVAL = env.bool("MANUAL_REBUILD_REQUIRES_APPROVAL", default=True)
APPROVAL_OVERDUE_HOURS = env.int("APPROVAL_OVERDUE_HOURS", default=24)
"""An action waiting for approval longer than this is overdue (the overview's panel)."""
VERIFY_AFTER_MINUTES = env.int("VERIFY_AFTER_MINUTES", default=60)
"""No scan of the rebuilt image this long after success -> ask Aqua to re-scan (once)."""
VERIFY_GIVE_UP_MINUTES = env.int("VERIFY_GIVE_UP_MINUTES", default=240)
"""Still none this long after success -> verification_failed ("no scan ... arrived")."""
ACTION_RUN_TIMEOUT_MINUTES = env.int("ACTION_RUN_TIMEOUT_MINUTES", default=360)
"""A dispatched rebuild with no result from CI this long after dispatch fails."""
ACTION_DISPATCH_RETRIES = env.int("ACTION_DISPATCH_RETRIES", default=6)
ACTION_DISPATCH_BACKOFF = env.float("ACTION_DISPATCH_BACKOFF", default=30.0)
"""Seconds before the first retry of a transiently failed dispatch; doubles each time."""
CELERY_BEAT_SCHEDULE["remediator-actions-poll"] = {
    "task": "remediator.actions_poll",
    "schedule": env.float("ACTION_POLL_INTERVAL", default=30.0),
}
ACTION_DISPATCH_LOST_AFTER = env.float("ACTION_DISPATCH_LOST_AFTER", default=300.0)
"""An action still approved this many seconds after its last change never reached a
worker (the broker was away when it was approved): the poll sends its dispatch again.
Far above a dispatch's usual wait, so the first copy has long been taken."""
CELERY_BEAT_SCHEDULE["remediator-accepted-risks-expire"] = {
    "task": "remediator.accepted_risks_expire",
    "schedule": 3600.0,
}
# VEX out (remediator/engine/vex, docs/vex.md): decisions exported as OpenVEX documents,
# ignore files and a VEX repository that Trivy reads (--vex repo).
VEX_AUTHOR = env.str("VEX_AUTHOR", default="Remediator")
"""The ``author`` of every OpenVEX document issued (e.g. "ACME Security Team")."""
VEX_REISSUE_INTERVAL = env.float("VEX_REISSUE_INTERVAL", default=60.0)
"""Seconds between beat's issue of the VEX documents of the digests scans marked
(decisions issue at once; every repository is issued again once a day)."""
VEX_REPOSITORY_UPDATE_INTERVAL = env.str("VEX_REPOSITORY_UPDATE_INTERVAL", default="1h")
"""How often clients should fetch the VEX repository again: minutes or hours, as the
VEX Repository Specification's schema allows ("30m", "1h", "24h")."""
if not re.fullmatch(r"[0-9]+[hm]", VEX_REPOSITORY_UPDATE_INTERVAL):
    raise ImproperlyConfigured(
        f"VEX_REPOSITORY_UPDATE_INTERVAL={VEX_REPOSITORY_UPDATE_INTERVAL!r}: expected "
        "minutes or hours such as 30m, 1h or 24h"
    )
VEX_REPOSITORY_TOKEN = env_secret("VEX_REPOSITORY_TOKEN")
"""Secret (VEX_REPOSITORY_TOKEN_FILE works too): a token that reads the whole VEX
repository (Bearer, or the password of HTTP Basic), for scanners without a user of their
own. Unset: only signed-in users and API tokens of users with the Viewer role read it."""
VEX_REISSUE_TIME_LIMIT = env.int("VEX_REISSUE_TIME_LIMIT", default=600)
"""Beat's issue of marked digests' documents, and the daily one of every repository's."""
CELERY_BEAT_SCHEDULE["remediator-vex-reissue"] = {
    "task": "remediator.vex_reissue",
    "schedule": VEX_REISSUE_INTERVAL,
}
CELERY_BEAT_SCHEDULE["remediator-vex-reissue-all"] = {
    "task": "remediator.vex_reissue_all",
    "schedule": 86400.0,
}
CELERY_BEAT_SCHEDULE["remediator-actions-verify-overdue"] = {
    "task": "remediator.actions_verify_overdue",
    "schedule": env.float("VERIFY_CHECK_INTERVAL", default=120.0),
}
# Notifications: email through Django's mail backend, and a Slack-compatible webhook.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="remediator@localhost")
NOTIFY_EMAIL_TO = env.list("NOTIFY_EMAIL_TO", default=[])
SLACK_WEBHOOK_URL = env_secret("SLACK_WEBHOOK_URL")
"""Secret (it carries its own token); SLACK_WEBHOOK_URL_FILE works too."""
NOTIFY_RETRIES = env.int("NOTIFY_RETRIES", default=2)
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "ActionKindEnum": "remediator.engine.models.ActionKind",
        "ActionStateEnum": "remediator.engine.models.ActionState",
        "AuditEventKindEnum": "remediator.engine.models.AuditEvent.Kind",
    }
)

# --- Admission control and inventory (remediator/engine/admission/, remediator/cluster/).
ADMISSION_UNKNOWN_IMAGES = env.str("ADMISSION_UNKNOWN_IMAGES", default="warn")
"""Images never scanned: allow, warn (allow with a warning) or deny."""
if ADMISSION_UNKNOWN_IMAGES not in ("allow", "warn", "deny"):
    raise ImproperlyConfigured("ADMISSION_UNKNOWN_IMAGES must be allow, warn or deny")
ADMISSION_ALLOW_UNAUTHENTICATED = env.bool("ADMISSION_ALLOW_UNAUTHENTICATED", default=False)
"""Answer reviews without the ADMISSION_TOKEN bearer (only behind an mTLS-checking proxy)."""
ADMISSION_BREAK_GLASS = env.bool("ADMISSION_BREAK_GLASS", default=True)
"""Honour the remediator.io/break-glass annotation for those ADMISSION_BREAK_GLASS_GROUPS,
_USERS and _NAMESPACES allow (always audited and notified); false: for nobody."""
ADMISSION_CLUSTER_NAME = env.str("ADMISSION_CLUSTER_NAME", default="")
"""The cluster name recorded for reviews posted to /api/v1/admission/validate."""
ADMISSION_CACHE_SECONDS = env.int("ADMISSION_CACHE_SECONDS", default=300)
"""Longest a cached image verdict input lives (ingest and decisions invalidate sooner)."""
# A tag is judged by the digest its registry serves now (remediator/integrations/registry/).
ADMISSION_RESOLVE_TAGS = env.bool("ADMISSION_RESOLVE_TAGS", default=True)
"""Ask the registry which digest a tag-only image names (else: the tag's last scan)."""
ADMISSION_REGISTRY_TIMEOUT = env.float("ADMISSION_REGISTRY_TIMEOUT", default=1.5)
"""Deadline for all registry lookups of one review, far below the webhook's 5 s timeout."""
ADMISSION_REGISTRY_CACHE_SECONDS = env.int("ADMISSION_REGISTRY_CACHE_SECONDS", default=30)
"""How long a web process trusts a registry's answer (and remembers that it failed)."""
ADMISSION_UNVERIFIED_TAGS = env.str("ADMISSION_UNVERIFIED_TAGS", default="unknown")
"""When the registry cannot be asked: unknown (answer as ADMISSION_UNKNOWN_IMAGES says, the
last scanned digest's findings still deny) or last_scanned (judge that digest, warn)."""
if ADMISSION_UNVERIFIED_TAGS not in ("unknown", "last_scanned"):
    raise ImproperlyConfigured("ADMISSION_UNVERIFIED_TAGS must be unknown or last_scanned")
REGISTRY_AUTH_FILE = env.str("REGISTRY_AUTH_FILE", default="")
"""A Docker config.json (auths) with registry credentials, e.g. a mounted dockerconfigjson."""
REGISTRY_CA_BUNDLE = env.str("REGISTRY_CA_BUNDLE", default="")
"""CA bundle for registries with a private CA (empty: the system's trust store)."""
ADMISSION_WRITE_DELAY_SECONDS = env.float("ADMISSION_WRITE_DELAY_SECONDS", default=1.0)
"""Admission audit events and inventory rows are written in batches this often (0: at once)."""
ADMISSION_MAX_BYTES = env.int("ADMISSION_MAX_BYTES", default=3 * 1024 * 1024)
"""Largest AdmissionReview accepted."""
INVENTORY_MAX_BYTES = env.int("INVENTORY_MAX_BYTES", default=64 * 1024 * 1024)
"""Largest inventory push (kubectl get pods -A -o json) accepted."""
INVENTORY_STALE_DAYS = env.int("INVENTORY_STALE_DAYS", default=7)
"""Containers not seen again for this many days leave the inventory (beat, hourly)."""
# The task lives in remediator/cluster/tasks.py under its findings.* name, which queued
# messages and CELERY_TASK_ROUTES carry.
CELERY_BEAT_SCHEDULE["findings-inventory-expire"] = {
    "task": "findings.inventory_expire",
    "schedule": 3600.0,
}

# --- Admission: who may break glass, and the work one review, push or backtest may cause
# (docs/admission.md; docs/policies-and-actions.md, "Policy backtest").
ADMISSION_BREAK_GLASS_GROUPS = env.list("ADMISSION_BREAK_GLASS_GROUPS", default=["system:masters"])
"""Groups (the review's userInfo.groups) whose members may break glass. The default names
only cluster admins, who could switch the webhook off anyway; empty with no users and no
namespaces: break-glass is off."""
ADMISSION_BREAK_GLASS_USERS = env.list("ADMISSION_BREAK_GLASS_USERS", default=[])
"""User names (userInfo.username) who may break glass, besides those groups."""
ADMISSION_BREAK_GLASS_NAMESPACES = env.list("ADMISSION_BREAK_GLASS_NAMESPACES", default=[])
"""Globs: break-glass only in these namespaces (empty: any); alone, anyone there may."""
ADMISSION_BREAK_GLASS_MIN_REASON = env.int("ADMISSION_BREAK_GLASS_MIN_REASON", default=10)
"""Letters or digits a break-glass reason needs (a ticket and what is on fire)."""
ADMISSION_MAX_CONTAINERS = env.int("ADMISSION_MAX_CONTAINERS", default=100)
"""A review whose object has more containers is denied unjudged (real pods have < 20)."""
ADMISSION_MAX_IMAGES = env.int("ADMISSION_MAX_IMAGES", default=50)
"""A review that introduces more distinct image references is denied unjudged."""
ADMISSION_DEADLINE_SECONDS = env.float("ADMISSION_DEADLINE_SECONDS", default=2.0)
"""Images not looked up by then are answered as ADMISSION_UNKNOWN_IMAGES says (audited);
well inside the webhook's timeoutSeconds (5 in the Helm chart, webhook.timeoutSeconds)."""
if not 0 < ADMISSION_DEADLINE_SECONDS <= 25:
    raise ImproperlyConfigured("ADMISSION_DEADLINE_SECONDS must be above 0 and at most 25")
if min(ADMISSION_MAX_CONTAINERS, ADMISSION_MAX_IMAGES, ADMISSION_BREAK_GLASS_MIN_REASON) < 1:
    raise ImproperlyConfigured(
        "ADMISSION_MAX_CONTAINERS, ADMISSION_MAX_IMAGES and "
        "ADMISSION_BREAK_GLASS_MIN_REASON must be at least 1"
    )
INVENTORY_MAX_PODS = env.int("INVENTORY_MAX_PODS", default=10_000)
"""An inventory push of more pods is refused (413): push per namespace past it."""
# `inventory_import --from-cluster` (remediator/integrations/kubernetes/): the pod list read
# from the Kubernetes API with the pod's service account, or KUBERNETES_TOKEN and --api-url.
KUBERNETES_SERVICEACCOUNT_DIR = env.str(
    "KUBERNETES_SERVICEACCOUNT_DIR", default="/var/run/secrets/kubernetes.io/serviceaccount"
)
"""Where the pod's service account token and ca.crt are mounted (read on every call)."""
KUBERNETES_CA_BUNDLE = env.str("KUBERNETES_CA_BUNDLE", default="")
"""CA bundle for an --api-url with a private CA (empty: the system's trust store)."""
KUBERNETES_LIST_DEADLINE = env.float("KUBERNETES_LIST_DEADLINE", default=120.0)
"""Seconds the whole pod list (every page) may take; past it the import fails, writing nothing."""
if KUBERNETES_LIST_DEADLINE <= 0:
    raise ImproperlyConfigured("KUBERNETES_LIST_DEADLINE must be above 0")
BACKTEST_MAX_DAYS = env.int("BACKTEST_MAX_DAYS", default=90)
"""Longest window a policy backtest replays."""
BACKTEST_MAX_RUNNING = env.int("BACKTEST_MAX_RUNNING", default=2)
"""Backtests running at once across all web processes (and one per user); 429 past it."""
BACKTEST_CACHE_SECONDS = env.int("BACKTEST_CACHE_SECONDS", default=600)
"""The same policies over the same window are answered from the shared cache this long."""
if not 1 <= BACKTEST_MAX_DAYS <= 365 or BACKTEST_MAX_RUNNING < 1:
    raise ImproperlyConfigured("BACKTEST_MAX_DAYS must be 1..365, BACKTEST_MAX_RUNNING >= 1")

# --- Shared cache and the overview's figures (findings/selectors/overview.py, findings/tasks.py).
CACHES = {
    "default": environ.Env.cache_url_config(env_secret("CACHE_URL") or "dbcache://remediator_cache")
}
"""Seen by every web process and the worker: a database table by default (created by
a migration, findings 0012), Redis in production: CACHE_URL=rediscache://host:6379/1."""
DASHBOARD_OVERVIEW_REFRESH_SECONDS = env.int("DASHBOARD_OVERVIEW_REFRESH_SECONDS", default=60)
"""The worker recomputes the overview's table-scanning figures this often (beat); pages
read the stored figures, dated "as of", kept 10 intervals in case beat is late."""
CELERY_BEAT_SCHEDULE["findings-overview-refresh"] = {
    "task": "findings.overview_refresh",
    "schedule": float(DASHBOARD_OVERVIEW_REFRESH_SECONDS),
}

# --- make run / end-to-end story (examples/story.sh): static files are served from the
# finders (WHITENOISE_USE_FINDERS); an existing, empty STATIC_ROOT keeps WhiteNoise from
# warning "No directory at: .../static/" on every start of a fresh DATA_DIR.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- Policy dry run (engine/services/dry_run_store.py): run by the worker, read by /policies/.
POLICY_DRY_RUN_REFRESH_SECONDS = env.int("POLICY_DRY_RUN_REFRESH_SECONDS", default=600)
"""Beat re-runs the dry run this often; the page's button and policy changes queue it too."""
POLICY_DRY_RUN_INLINE_LIMIT = env.int("POLICY_DRY_RUN_INLINE_LIMIT", default=50_000)
"""With none stored and fewer open findings than this, the page runs the dry run itself."""
CELERY_BEAT_SCHEDULE["remediator-policy-dry-run"] = {
    "task": "remediator.policy_dry_run_refresh",
    "schedule": float(POLICY_DRY_RUN_REFRESH_SECONDS),
}

# --- Exploit intelligence (findings/threat_intel/): FIRST EPSS and CISA KEV, imported daily
# by beat from these URLs when set (manage.py threat_intel_import takes files or URLs too).
EPSS_URL = env.str("EPSS_URL", default="")
"""e.g. https://epss.cyentia.com/epss_scores-current.csv.gz; empty: no scheduled import."""
KEV_URL = env.str("KEV_URL", default="")
"""e.g. https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"""
THREAT_INTEL_REFRESH_HOURS = env.float("THREAT_INTEL_REFRESH_HOURS", default=24.0)
# A snapshot replaces the one in place, so one that is not believable is refused
# (findings/threat_intel/sanity.py; manage.py threat_intel_import --force imports it).
THREAT_INTEL_MAX_SKIPPED = env.float("THREAT_INTEL_MAX_SKIPPED", default=0.01)
"""Largest fraction of a file's rows that may be unreadable; real files have none."""
THREAT_INTEL_MIN_RETAINED = env.float("THREAT_INTEL_MIN_RETAINED", default=0.9)
"""A new snapshot must hold at least this fraction of the current one's CVEs (KEV only
grows; EPSS grows daily with the CVEs published)."""
THREAT_INTEL_DOWNLOAD_DEADLINE = env.float("THREAT_INTEL_DOWNLOAD_DEADLINE", default=300.0)
"""Seconds a feed's whole body may take (EPSS ~2 MB gzipped: 20 s at 100 KB/s)."""
VEX_TRUSTED_AUTHORS = env.list("VEX_TRUSTED_AUTHORS", default=[])
"""Authors (publishers) of VEX documents whose statements count, as fnmatch globs
ignoring case (``Red Hat*,Aqua Security``). Empty: nobody; statements are shown only."""
VEX_FETCH_MAX_BYTES = env.int("VEX_FETCH_MAX_BYTES", default=32 * 1024 * 1024)
"""The largest VEX document ``manage.py vex_import URL`` downloads."""
if not 0 <= THREAT_INTEL_MAX_SKIPPED < 1 or not 0 <= THREAT_INTEL_MIN_RETAINED <= 1:
    raise ImproperlyConfigured(
        "THREAT_INTEL_MAX_SKIPPED must be in [0, 1) and THREAT_INTEL_MIN_RETAINED in [0, 1]"
    )
if THREAT_INTEL_DOWNLOAD_DEADLINE <= 0:
    raise ImproperlyConfigured("THREAT_INTEL_DOWNLOAD_DEADLINE must be positive")
if EPSS_URL or KEV_URL:
    CELERY_BEAT_SCHEDULE["remediator-threat-intel-refresh"] = {
        "task": "remediator.threat_intel_refresh",
        "schedule": THREAT_INTEL_REFRESH_HOURS * 3600.0,
    }

# --- Where secrets live (remediator/core/secrets.py) and where they may go
# (remediator/integrations/outbound.py); secrets redacted from logs (remediator/core/redact.py).
SECRET_ENV_PREFIX = env.str("SECRET_ENV_PREFIX", default="REMEDIATOR_SECRET_")
"""A build target's token_env / api_token_env must start with this (or name a file in
SECRETS_DIR): no build target can send HARBOR_PASSWORD or DATABASE_URL to its CI system."""
if not SECRET_ENV_PREFIX.isupper() or not SECRET_ENV_PREFIX.endswith("_"):
    raise ImproperlyConfigured("SECRET_ENV_PREFIX must be upper case and end with '_'")
if len(SECRET_ENV_PREFIX) < 8 or not SECRET_ENV_PREFIX.replace("_", "").isalnum():
    raise ImproperlyConfigured("SECRET_ENV_PREFIX must be 8+ letters, digits and '_'")
SECRETS_DIR = env.str("SECRETS_DIR", default="")
"""A directory of files, one per build-target secret, named as token_env names them."""
PLAIN_HTTP_HOSTS = [
    host.strip().strip("[]").lower()
    for host in env.list("PLAIN_HTTP_HOSTS", default=["localhost", "127.0.0.1", "::1"])
]
"""Hosts CI, Aqua and Harbor URLs may reach over plain http; https everywhere else."""
# Every handler: secrets redacted, then outside text kept on its record's line (one_line).
LOGGING["filters"] = {
    "redact_secrets": {"()": "remediator.core.redact.RedactSecretsFilter"},
    "one_line": {"()": "remediator.core.logsafe.OneLineFilter"},
}
LOGGING["handlers"]["console"]["filters"] = ["redact_secrets", "one_line"]
LOGGING["loggers"]["django.request"] = {"filters": ["redact_secrets"]}
LOGGING["loggers"]["django.server"] = {
    "handlers": ["console"],
    "level": "INFO",
    "propagate": False,
    "filters": ["redact_secrets", "one_line"],
}

# --- Durability and operability (remediator/intake/spool*.py, remediator/api/db_unavailable.py,
# remediator/api/operability.py, remediator/core/metrics.py).
WEBHOOK_SPOOL_DIR = Path(env.str("WEBHOOK_SPOOL_DIR", default=str(DATA_DIR / "spool"))).resolve()
"""Webhook bodies the database could not store wait here (fsynced) until replayed."""
WEBHOOK_SPOOL_MAX_BYTES = env.int(
    "WEBHOOK_SPOOL_MAX_BYTES", default=default_spool_max_bytes(WEBHOOK_SPOOL_DIR)
)
"""Past this many bytes of spool files a body is answered 503 (not kept; the sender
retries). Default: 1 GiB, or a tenth of the spool's filesystem when that is smaller."""
WEBHOOK_SPOOL_REPLAY_INTERVAL = env.float("WEBHOOK_SPOOL_REPLAY_INTERVAL", default=15.0)
WEBHOOK_SPOOL_REPLAY_BATCH = env.int("WEBHOOK_SPOOL_REPLAY_BATCH", default=2000)
WEBHOOK_SPOOL_INLINE_EVERY = env.float("WEBHOOK_SPOOL_INLINE_EVERY", default=5.0)
"""A web process looks at its spool at most this often, after storing a body..."""
WEBHOOK_SPOOL_INLINE_BUDGET = env.float("WEBHOOK_SPOOL_INLINE_BUDGET", default=0.5)
"""...and replays it for at most this many seconds of that request."""
WEBHOOK_RETRY_AFTER = env.int("WEBHOOK_RETRY_AFTER", default=30)
"""Retry-After (seconds) of a 503 when the database, and for webhooks the spool, is down."""
CELERY_BEAT_SCHEDULE["findings-spool-replay"] = {
    "task": "findings.spool_replay",
    "schedule": WEBHOOK_SPOOL_REPLAY_INTERVAL,
}
MIDDLEWARE.append("remediator.api.db_unavailable.DatabaseUnavailableMiddleware")
READYZ_TIMEOUT = env.float("READYZ_TIMEOUT", default=2.0)
METRICS_TOKEN = env_secret("METRICS_TOKEN")
"""Bearer token /metrics requires (METRICS_TOKEN_FILE works too)."""
METRICS_ALLOW_UNAUTHENTICATED = env.bool("METRICS_ALLOW_UNAUTHENTICATED", default=False)
if env.str("PROMETHEUS_MULTIPROC_DIR", default=""):
    Path(env.str("PROMETHEUS_MULTIPROC_DIR")).mkdir(parents=True, exist_ok=True)
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use plain or json")
LOGGING["formatters"]["json"] = {"()": "remediator.core.logging.JsonFormatter"}
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT
# A killed worker's task comes back within a minute: acks_late + reject_on_worker_lost
# (above) requeue at once when a pool process dies; when a whole worker dies, the delivery
# sweep re-enqueues its deliveries DELIVERY_REQUEUE_AFTER + DELIVERY_SWEEP_INTERVAL after
# they were handed over. Redis redelivers any other unacknowledged task after its visibility
# timeout, which must outlast every countdown (retries wait up to ~16 minutes) or those
# tasks would run twice; see docs/scanners.md, "A killed worker".
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=1800)
if not env.str("GITHUB_RATE_LIMIT_MAX_WAIT", default="") and CELERY_BROKER_URL.startswith(
    ("redis", "rediss", "sentinel")
):  # not set: a rate limit's retry stays well inside a shorter visibility timeout
    GITHUB_RATE_LIMIT_MAX_WAIT = min(GITHUB_RATE_LIMIT_MAX_WAIT, CELERY_VISIBILITY_TIMEOUT / 2)
_LONGEST_COUNTDOWN = max(
    DELIVERY_RETRY_BACKOFF_MAX,
    ACTION_DISPATCH_BACKOFF * 2 ** max(ACTION_DISPATCH_RETRIES - 1, 0),
    GITHUB_RATE_LIMIT_MAX_WAIT,
)
if CELERY_BROKER_URL.startswith(("redis", "rediss", "sentinel")):
    if CELERY_VISIBILITY_TIMEOUT <= _LONGEST_COUNTDOWN:
        raise ImproperlyConfigured(
            f"CELERY_VISIBILITY_TIMEOUT={CELERY_VISIBILITY_TIMEOUT} must exceed the longest retry "
            f"countdown ({_LONGEST_COUNTDOWN:.0f} s) or delayed retries run twice"
        )
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = CELERY_VISIBILITY_TIMEOUT

# --- Task time limits: no task runs unbounded. At the soft limit Celery raises
# SoftTimeLimitExceeded inside the task (its transaction rolls back; the task records why:
# a delivery marked for retry, an action failed with the reason, a feed refused); at the
# hard limit, TASK_TIME_LIMIT_GRACE later, the pool process is killed (acks_late and
# reject_on_worker_lost above requeue the task). Enforced by the prefork pool (the
# Procfile's worker); the solo pool has no time limits.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("TASK_SOFT_TIME_LIMIT", default=300)
"""Every task not listed below: sweeps, expiries, notifications, polls take seconds."""
TASK_TIME_LIMIT_GRACE = env.int("TASK_TIME_LIMIT_GRACE", default=60)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + TASK_TIME_LIMIT_GRACE
DELIVERY_TIME_LIMIT = env.int("DELIVERY_TIME_LIMIT", default=900)
"""Ingest of one delivery: a 51 MB, 20,000-finding report takes 3 s on PostgreSQL; the
largest body (64 MiB) on a busy SQLite, or a Harbor report fetch through its timeouts and
retries (about 3 minutes), still ends well inside 15 minutes."""
ACTION_TIME_LIMIT = env.int("ACTION_TIME_LIMIT", default=600)
"""Dispatching an action or updating its pull request: a handful of outside calls, each
bounded by PROVIDER_* timeouts and retries and GITHUB_RATE_LIMIT_MAX_WAIT."""
POLICY_DRY_RUN_TIME_LIMIT = env.int("POLICY_DRY_RUN_TIME_LIMIT", default=1200)
"""The policy dry run over every open finding (minutes at a million findings)."""
THREAT_INTEL_TIME_LIMIT = env.int(
    "THREAT_INTEL_TIME_LIMIT", default=int(2 * THREAT_INTEL_DOWNLOAD_DEADLINE + 600)
)
"""Two downloads within their deadline, then the imports (EPSS: 18 s on SQLite)."""
CELERY_TASK_ANNOTATIONS = {
    name: {"soft_time_limit": soft, "time_limit": soft + TASK_TIME_LIMIT_GRACE}
    for name, soft in {
        "findings.delivery_process": DELIVERY_TIME_LIMIT,
        "remediator.action_dispatch": ACTION_TIME_LIMIT,
        "remediator.action_pull_request_update": ACTION_TIME_LIMIT,
        "remediator.policy_dry_run_refresh": POLICY_DRY_RUN_TIME_LIMIT,
        "remediator.threat_intel_refresh": THREAT_INTEL_TIME_LIMIT,
        "remediator.vex_reissue": VEX_REISSUE_TIME_LIMIT,
        "remediator.vex_reissue_all": VEX_REISSUE_TIME_LIMIT,
        # the go-live checklist's pings: one call per build target and Aqua, each bounded
        "remediator.setup_pings": min(120, CELERY_TASK_SOFT_TIME_LIMIT),
        # a notification: a mail and a Slack post, each bounded by their own timeouts
        "remediator.admission_break_glass_notify": min(60, CELERY_TASK_SOFT_TIME_LIMIT),
    }.items()
}
_LONGEST_TASK = max(
    CELERY_TASK_TIME_LIMIT, *(a["time_limit"] for a in CELERY_TASK_ANNOTATIONS.values())
)
if min(CELERY_TASK_SOFT_TIME_LIMIT, TASK_TIME_LIMIT_GRACE) <= 0:
    raise ImproperlyConfigured("TASK_SOFT_TIME_LIMIT and TASK_TIME_LIMIT_GRACE must be positive")
_REDIS = CELERY_BROKER_URL.startswith(("redis", "rediss", "sentinel"))
if _REDIS and CELERY_VISIBILITY_TIMEOUT <= _LONGEST_TASK:
    raise ImproperlyConfigured(
        f"CELERY_VISIBILITY_TIMEOUT={CELERY_VISIBILITY_TIMEOUT} must exceed the longest task "
        f"time limit ({_LONGEST_TASK} s) or a running task is handed to a second worker"
    )

# --- Roles and hardening (remediator/api/permissions.py, docs/security-model.md).
# Behind a TLS-terminating proxy: it sets X-Forwarded-Proto/-For (and strips clients' own).
TRUST_PROXY_HEADERS = env.bool("TRUST_PROXY_HEADERS", default=False)
if TRUST_PROXY_HEADERS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)
# HTTPS: the defaults follow BASE_URL's scheme, so `make run` on http://127.0.0.1 keeps
# plain cookies and no redirect; each can be set on its own.
HTTPS = BASE_URL.startswith("https://")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=HTTPS)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz)$"]  # load-balancer probes over plain http
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if HTTPS and not CSRF_TRUSTED_ORIGINS:
    CSRF_TRUSTED_ORIGINS = ["/".join(BASE_URL.split("/")[:3])]
# Content-Security-Policy on every response (django-csp): scripts, styles and images only
# from this origin (images also data:, which the favicon and Swagger UI's CSS use), no
# plugins, no <base>, no framing, forms post here only. No template has inline script or
# style; the API docs load Swagger UI's init script from a URL (SpectacularSwaggerSplitView).
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
                  "csp.middleware.CSPMiddleware")  # fmt: skip
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
# Login throttling (django-axes) for the dashboard's and the admin's sign-in forms.
INSTALLED_APPS.append("axes")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("LOGIN_THROTTLE", default=True)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("LOGIN_LOCKOUT_MINUTES", default=15.0))
_LOCKOUT_BY = {
    "username+ip": [["username", "ip_address"]],
    "ip": ["ip_address"],
    "username": ["username"],
}
LOGIN_LOCKOUT_BY = env.str("LOGIN_LOCKOUT_BY", default="username+ip")
if LOGIN_LOCKOUT_BY not in _LOCKOUT_BY:
    raise ImproperlyConfigured(f"LOGIN_LOCKOUT_BY must be one of {', '.join(_LOCKOUT_BY)}")
AXES_LOCKOUT_PARAMETERS = _LOCKOUT_BY[LOGIN_LOCKOUT_BY]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no start-up banner in every process and command
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "remediator.core.client.client_address"
# Webhook rate limit (remediator/api/rate_limit.py), counted in the shared cache.
WEBHOOK_RATE_LIMIT = env.int("WEBHOOK_RATE_LIMIT", default=600)
"""Posts a minute per source and client address; 0 turns the limit off."""
WEBHOOK_RATE_LIMITS = env.dict("WEBHOOK_RATE_LIMITS", cast={"value": int}, default={})
"""Per-source overrides, e.g. "aqua=1200,trivy=300"."""

# --- Single sign-on: OpenID Connect (remediator/dashboard/sso/, docs/sso.md). Off unless
# OIDC_DISCOVERY_URL and OIDC_CLIENT_ID are set; endpoints come from the discovery document
# (fetched with OIDC_TIMEOUT, cached OIDC_DISCOVERY_CACHE_SECONDS). mozilla-django-oidc reads
# the OIDC_RP_* / OIDC_USE_* names below; the endpoints are set from discovery per login.
OIDC_DISCOVERY_URL = env.str("OIDC_DISCOVERY_URL", default="")
"""The issuer's /.well-known/openid-configuration."""
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_CLIENT_SECRET = env_secret("OIDC_CLIENT_SECRET")
OIDC_CLIENT_AUTH_METHOD = env.str("OIDC_CLIENT_AUTH_METHOD", default="client_secret_post")
if OIDC_CLIENT_AUTH_METHOD not in ("client_secret_post", "client_secret_basic"):
    raise ImproperlyConfigured(
        "OIDC_CLIENT_AUTH_METHOD must be client_secret_post or client_secret_basic"
    )
OIDC_SCOPES = env.str("OIDC_SCOPES", default="openid email profile")
"""Add "groups" where the provider sends groups under that scope (Okta, Keycloak)."""
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="single sign-on")
"""Shown on the sign-in page: "Sign in with <name>"."""
OIDC_GROUPS_CLAIM = env.list("OIDC_GROUPS_CLAIM", default=["groups"])
"""The claim(s) whose values are the user's groups (a list or one string each)."""
OIDC_ADMIN_GROUPS = env.list("OIDC_ADMIN_GROUPS", default=[])
OIDC_APPROVER_GROUPS = env.list("OIDC_APPROVER_GROUPS", default=[])
OIDC_VIEWER_GROUPS = env.list("OIDC_VIEWER_GROUPS", default=[])
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=5.0)
"""Seconds each call to the identity provider (discovery, token, keys, userinfo) may take."""
OIDC_DISCOVERY_CACHE_SECONDS = env.int("OIDC_DISCOVERY_CACHE_SECONDS", default=3600)
LOCAL_LOGIN = env.bool("LOCAL_LOGIN", default=True)
"""false: no password form; superusers still sign in at /login/local/ (break-glass)."""
if not LOCAL_LOGIN and not (OIDC_DISCOVERY_URL and OIDC_CLIENT_ID):
    raise ImproperlyConfigured(
        "LOCAL_LOGIN=false needs single sign-on (OIDC_DISCOVERY_URL and OIDC_CLIENT_ID)"
    )
OIDC_RP_CLIENT_ID = OIDC_CLIENT_ID
OIDC_RP_CLIENT_SECRET = OIDC_CLIENT_SECRET
OIDC_RP_SCOPES = OIDC_SCOPES
OIDC_TOKEN_USE_BASIC_AUTH = OIDC_CLIENT_AUTH_METHOD == "client_secret_basic"
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc-callback"
AUTHENTICATION_BACKENDS.append("remediator.dashboard.sso.backend.SsoBackend")

# --- Remediation deadlines (remediator/teams/deadlines.py, docs/deadlines.md)
NOTIFY_TEAMS_ONLY = env.bool("NOTIFY_TEAMS_ONLY", default=False)
"""True: a notification about an image whose owning team has a channel of its own goes
to that team instead of the global channels (NOTIFY_EMAIL_TO, SLACK_WEBHOOK_URL)."""
SLA_DUE_SOON_DAYS = env.int("SLA_DUE_SOON_DAYS", default=7)
"""An open finding due within this many days is "due soon"."""
SLA_BREACH_CHECK_INTERVAL = env.float("SLA_BREACH_CHECK_INTERVAL", default=3600.0)
CELERY_BEAT_SCHEDULE["remediator-sla-breaches-notify"] = {
    "task": "remediator.sla_breaches_notify",
    "schedule": SLA_BREACH_CHECK_INTERVAL,
}
for _name, _soft in {
    # one message per team: a mail and a Slack post each, bounded by their own timeouts
    "remediator.sla_breaches_notify": min(600, CELERY_TASK_SOFT_TIME_LIMIT),
    # a sweep over open findings, as the policy dry run (and inside the visibility timeout)
    "remediator.due_dates_refresh": POLICY_DRY_RUN_TIME_LIMIT,
}.items():
    CELERY_TASK_ANNOTATIONS[_name] = {
        "soft_time_limit": _soft,
        "time_limit": _soft + TASK_TIME_LIMIT_GRACE,
    }

# Teams: team-scoped access (findings/selectors/scope.py). On, a person who is neither
# staff nor superuser sees and decides only on the images their teams own.
TEAM_SCOPED_ACCESS = env.bool("TEAM_SCOPED_ACCESS", default=False)
