"""Registry credentials from one Docker ``config.json`` / containers ``auth.json`` file.

``REGISTRY_AUTH_FILE`` names it (the variable podman, skopeo and buildah read); in
Kubernetes, mount a ``kubernetes.io/dockerconfigjson`` Secret and point it at the
``.dockerconfigjson`` key. Its ``auths`` map a registry — or a registry and a
repository prefix, ``registry.example.com/shop`` — to ``{"auth": base64(user:password)}``
or ``{"username", "password"}``. Keys are normalised as image references are
(``https://index.docker.io/v1/`` is Docker Hub, ``:443`` is dropped), and the longest
matching key wins. Credential helpers (``credsStore``, ``credHelpers``) and identity
tokens are not read. The file is re-read when it changes; its values are never logged.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from findings.parsers.base import ParseError
from findings.parsers.images import normalize_registry

MAX_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)


class CredentialsInvalid(ValueError):
    """The auth file cannot be read or is not a Docker config (says why, never a value)."""


_lock = threading.Lock()
_loaded: dict = {"stamp": None, "auths": {}}


def auth_key(text: str) -> str:
    """An ``auths`` key as ``registry[/path]``; '' when it names no registry."""
    key = text.strip()
    had_scheme = "://" in key
    if had_scheme:
        key = key.split("://", 1)[1]
    host, _, path = key.partition("/")
    try:
        registry = normalize_registry(host)
    except ParseError:
        return ""
    path = path.strip("/").lower()
    # "https://index.docker.io/v1/" and "https://host/v2/" name the host, not a repository.
    return registry if had_scheme or not path else f"{registry}/{path}"


def _entry(value: object) -> Credentials | None:
    if not isinstance(value, dict):
        return None
    username, password = value.get("username"), value.get("password")
    if isinstance(username, str) and isinstance(password, str) and username:
        return Credentials(username, password)
    auth = value.get("auth")
    if not isinstance(auth, str) or not auth:
        return None
    try:
        decoded = base64.b64decode(auth, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, password = decoded.partition(":")
    return Credentials(username, password) if colon and username else None


def parse_auth_file(data: bytes) -> dict[str, Credentials]:
    """{normalised key: credentials} of a Docker config; CredentialsInvalid if it is none."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise CredentialsInvalid("is not JSON") from None
    auths = document.get("auths") if isinstance(document, dict) else None
    if not isinstance(auths, dict):
        raise CredentialsInvalid('has no "auths" object (a Docker config.json is expected)')
    found = {}
    for key, value in auths.items():
        normalised, credentials = auth_key(str(key)), _entry(value)
        if normalised and credentials is not None:
            found[normalised] = credentials
    return found


def _auths() -> dict[str, Credentials]:
    configured = getattr(settings, "REGISTRY_AUTH_FILE", "")
    if not configured:
        return {}
    path = Path(configured)
    try:
        stat = path.stat()
    except OSError:
        raise CredentialsInvalid("cannot be read") from None
    stamp = (configured, stat.st_mtime_ns, stat.st_size)
    with _lock:
        if _loaded["stamp"] == stamp:
            return _loaded["auths"]
    if stat.st_size > MAX_FILE_BYTES:
        raise CredentialsInvalid(f"is larger than {MAX_FILE_BYTES} bytes")
    try:
        auths = parse_auth_file(path.read_bytes())
    except OSError:
        raise CredentialsInvalid("cannot be read") from None
    with _lock:
        _loaded.update(stamp=stamp, auths=auths)
    return auths


def credentials_for(registry: str, repository: str) -> Credentials | None:
    """The credentials for ``registry/repository`` (both normalised): the longest
    matching ``auths`` key. Raises CredentialsInvalid when the file is unusable."""
    auths = _auths()
    if not auths:
        return None
    parts = repository.split("/")
    for end in range(len(parts), 0, -1):
        found = auths.get(f"{registry}/{'/'.join(parts[:end])}")
        if found is not None:
            return found
    return auths.get(registry)


def auth_file_problem() -> str:
    """'' when REGISTRY_AUTH_FILE is unset or usable, else what is wrong with it."""
    try:
        _auths()
    except CredentialsInvalid as exc:
        return f"REGISTRY_AUTH_FILE {exc}"
    return ""
