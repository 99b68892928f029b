"""Secrets out of log lines, however they are spelled.

A webhook secret may travel in the URL path (``/api/v1/webhooks/<source>/<secret>/``)
and a sender may wrongly put one in the query string (``/metrics?token=...``).
:func:`redact_text` finds both in any spelling: raw, percent-encoded in full or in part
(any case of hex, several times over), with doubled slashes or ``/./``. Everything after
``webhooks/<source>/`` becomes ``<secret>/``; the value of any query parameter whose
name looks secret (``token``, ``secret``, ``key``, ``password``, ``signature``, ... or a
name made of such words: ``access_key``, ``X-Amz-Signature``) becomes ``<secret>``; the
password of a URL (``redis://:pw@host``) becomes ``<secret>``; and every secret
configured in this process (:func:`known_secrets`: ``WEBHOOK_SECRET*``,
``ADMISSION_TOKEN``, ``METRICS_TOKEN``, the integrations' passwords and keys, build
targets' ``REMEDIATOR_SECRET_*`` and the files of ``SECRETS_DIR``) is hidden wherever it
appears, in any of those spellings. :class:`RedactSecretsFilter` applies it to log
records: every handler of the web processes, Celery workers and beat, and gunicorn's
access and error logs.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from urllib.parse import unquote, unquote_plus

REDACTED = "<secret>"
SECRET_PARAMS = frozenset(
    {"token", "private_token", "access_token", "password", "secret", "key", "api_key"}
    | {"apikey", "auth", "authorization", "signature", "sig", "passwd", "pwd", "credentials"}
)
"""Query parameter names whose values are secrets (also any name containing one of
``SECRET_WORDS``)."""
SECRET_WORDS = ("secret", "token", "password", "passwd", "apikey", "api_key")
SECRET_PARTS = frozenset(
    {"key", "signature", "sig", "credential", "credentials", "bearer", "jwt", "auth", "pwd"}
)
"""A parameter name made of words (split at ``_ - .``) of which one is these is secret too:
``access_key``, ``X-Amz-Signature``, ``x-auth``."""
SECRET_ENV = re.compile(
    r"(?:^|_)(?:SECRET|TOKEN|PASSWORD|PASSWD|API_KEY|APIKEY|PRIVATE_KEY|SECRET_KEY)$"
)
"""Environment variables whose values are secrets (``METRICS_TOKEN``, ``AQUA_PASSWORD``,
``AQUA_API_SECRET``), also read through their ``*_FILE``."""
SECRET_ENV_NAMES = ("WEBHOOK_SECRET", "ADMISSION_TOKEN", "SLACK_WEBHOOK_URL", "AQUA_API_KEY")
"""Prefixes of secret variables that the pattern above would miss."""
MIN_SECRET = 4
SECRET_HEADERS = ("authorization", "cookie", "set-cookie", "webhook-signature")
MAX_DECODE = 5
"""Percent-decoding rounds: a spelling encoded more often than this is left alone."""

_TOKEN = re.compile(r"\S+")
_PARTS = re.compile(r"[_.\-\s]+")
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^/\s:@]*:)[^/\s@]+@")
_WEBHOOK = re.compile(r"((?:^|/)webhooks/+[^/]+/+).+", re.IGNORECASE | re.DOTALL)
_DOT_SLASHES = re.compile(r"/(?:\.?/)+")


def decoded(text: str, *, plus: bool = False) -> str:
    """``text`` percent-decoded until it no longer changes (at most MAX_DECODE times)."""
    decode = unquote_plus if plus else unquote
    for _ in range(MAX_DECODE):
        new = decode(text)
        if new == text:
            break
        text = new
    return text


def is_secret_env(name: str) -> bool:
    """Whether the environment variable ``name`` (or ``name_FILE``) holds a secret."""
    base = name.removesuffix("_FILE")
    prefix = os.environ.get("SECRET_ENV_PREFIX") or "REMEDIATOR_SECRET_"
    return base.startswith((*SECRET_ENV_NAMES, prefix)) or SECRET_ENV.search(base) is not None


def known_secrets() -> list[str]:
    """Every secret configured in this process's environment (:func:`is_secret_env`,
    and the files of ``SECRETS_DIR``), longest first."""
    found: set[str] = set()
    for name, value in os.environ.items():
        if not is_secret_env(name):
            continue
        if name.endswith("_FILE"):
            value = _file_text(value)
        found.update(part.strip() for part in value.split(",") if len(part.strip()) >= MIN_SECRET)
    for value in _secrets_dir_texts(os.environ.get("SECRETS_DIR", "")):
        if len(value.strip()) >= MIN_SECRET:
            found.add(value.strip())
    return sorted(found, key=len, reverse=True)


_dir_cache: dict[str, tuple[float, list[str]]] = {}


def _secrets_dir_texts(directory: str) -> list[str]:
    """The texts of the files in ``SECRETS_DIR``, re-listed only when it changes."""
    if not directory:
        return []
    try:
        mtime = Path(directory).stat().st_mtime
        cached = _dir_cache.get(directory)
        if cached is None or cached[0] != mtime:
            paths = [p for p in Path(directory).iterdir() if p.is_file()]
            _dir_cache[directory] = cached = (mtime, [str(p) for p in paths])
    except OSError:
        return []
    return [_file_text(path) for path in cached[1]]


_file_cache: dict[str, tuple[float, str]] = {}


def _file_text(path: str) -> str:
    """A secret file's text, re-read only when it changes (log records are many)."""
    try:
        mtime = Path(path).stat().st_mtime
        cached = _file_cache.get(path)
        if cached is None or cached[0] != mtime:
            _file_cache[path] = cached = (mtime, Path(path).read_text())
        return cached[1]
    except OSError:
        return ""


def is_secret_param(name: str) -> bool:
    key = decoded(name, plus=True).strip().lower().replace("-", "_")
    if key in SECRET_PARAMS or any(word in key for word in SECRET_WORDS):
        return True
    return any(part in SECRET_PARTS for part in _PARTS.split(key))


def redact_query(query: str) -> str:
    """``a=1&token=x`` -> ``a=1&token=<secret>`` (any spelling of the name)."""
    parts = re.split(r"([&;])", query)
    for index, part in enumerate(parts):
        name, eq, _ = part.partition("=")
        if eq and is_secret_param(name):
            parts[index] = f"{name}={REDACTED}"
    return "".join(parts)


def redact_token(token: str, secrets: list[str] | None = None) -> str:
    """One whitespace-free piece of a log line, with any secret in it hidden."""
    for secret in known_secrets() if secrets is None else secrets:
        for spelled in (decoded(token), decoded(token, plus=True)):
            if secret in spelled:
                token = spelled.replace(secret, REDACTED)
                break
    quote = '"' if token.endswith('"') and len(token) > 1 else ""
    path, sep, query = token.removesuffix(quote).partition("?")
    plain = _DOT_SLASHES.sub("/", decoded(path))
    if _WEBHOOK.search(plain):
        path = _WEBHOOK.sub(rf"\g<1>{REDACTED}/", plain)
    if sep:
        query = redact_query(query)
    elif "=" in path and "/" not in path:  # a bare query string (gunicorn's %(q)s)
        path = redact_query(path)
    return f"{path}{sep}{query}{quote}"


def redact_text(text: str) -> str:
    """``text`` with every webhook path secret, secret query parameter, URL password and
    configured secret hidden."""
    secrets = known_secrets()
    plain = "=" not in text and "/" not in text and "%" not in text and "+" not in text
    if plain and not any(secret in text for secret in secrets):
        return text
    if "@" in text:
        text = _URL_PASSWORD.sub(rf"\g<1>{REDACTED}@", text)
    return _TOKEN.sub(lambda match: redact_token(match.group(), secrets), text)


def _redact_atom(key: str, value: object) -> object:
    if not isinstance(value, str):
        return value
    header = key[1:-2].lower() if key.startswith("{") and key.endswith(("}i", "}o")) else ""
    if header and (header in SECRET_HEADERS or is_secret_param(header)):
        return REDACTED
    return redact_text(value)


def redact_record(record: logging.LogRecord) -> None:
    """Hide secrets in ``record``'s message, arguments and traceback, in place."""
    if isinstance(record.args, dict):  # gunicorn's access log: a dict of atoms
        for key, value in list(record.args.items()):
            record.args[key] = _redact_atom(str(key), value)
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
    else:
        try:
            message = record.getMessage()
        except Exception:  # a broken record: leave it to logging's own error handling
            return
        record.msg, record.args = redact_text(message), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact_text(record.exc_text)


class RedactSecretsFilter(logging.Filter):
    """A logging filter that hides webhook secrets and secret query parameters."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True
