"""A VEX repository as the VEX Repository Specification v0.1 lays it out
(aquasecurity/vex-repo-spec): the manifest ``/.well-known/vex-repository.json`` names an
archive; the archive holds ``index.json`` and one OpenVEX document per image
repository at ``pkg/oci/<registry>/<path>/vex.json``. Trivy (``--vex repo``) looks a
scanned image up in the index by its purl without version but with
``repository_url``, then matches the statements of that document.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime

from .purls import oci_purl, repository_url

SPEC_VERSION = "0.1"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    """One image repository's document in the archive."""

    id: str
    location: str
    document: dict
    issued_at: datetime


def _segment(text: str) -> str:
    """A path segment in the index schema's alphabet ``[a-zA-Z0-9_.-]``: any other byte
    is written ``_XX`` (its hex, uppercase: names and registries are lowercase, so two
    repositories never share a location)."""
    return "".join(
        chr(b) if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "_.-") else f"_{b:02X}"
        for b in text.encode("utf-8")
    )


def location(registry: str, name: str) -> str:
    """``pkg/oci/<registry>/<path>/vex.json`` (a registry's port ``:5000`` as ``_3A5000``)."""
    segments = repository_url(registry, name).split("/")
    return "/".join(["pkg", "oci", *(_segment(s) for s in segments), "vex.json"])


def entry(registry: str, name: str, document: dict, issued_at: datetime) -> Entry:
    """An image repository's entry: its id is its purl without version, with
    ``repository_url``, the key Trivy looks up."""
    return Entry(
        id=oci_purl(registry, name),
        location=location(registry, name),
        document=document,
        issued_at=issued_at,
    )


def manifest(*, name: str, description: str, archive_url: str, update_interval: str) -> dict:
    """The repository metadata (``vex-repository.json``)."""
    return {
        "name": name,
        "description": description,
        "versions": [
            {
                "spec_version": SPEC_VERSION,
                "locations": [{"url": archive_url}],
                "update_interval": update_interval,
            }
        ],
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def index(entries: list[Entry], updated_at: datetime) -> dict:
    """``index.json``: when it changed last, and where each package's document is."""
    return {
        "updated_at": _iso(updated_at),
        "packages": [
            {"id": item.id, "location": item.location, "format": "openvex"}
            for item in sorted(entries, key=lambda e: e.id)
        ],
    }


def _dump(value: dict) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False).encode("utf-8")


def archive(entries: list[Entry], updated_at: datetime) -> bytes:
    """The tar.gz Trivy downloads: ``index.json`` at its root and every document. Its
    bytes depend on the content only (fixed modification times), so that an unchanged
    repository keeps its ETag."""
    mtime = int(updated_at.timestamp())
    files = [("index.json", _dump(index(entries, updated_at)))]
    files += [(e.location, _dump(e.document)) for e in sorted(entries, key=lambda e: e.id)]
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=mtime) as packed,
        tarfile.open(fileobj=packed, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = mtime
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def etag(entries: list[Entry], updated_at: datetime) -> str:
    digest = hashlib.sha256(_dump(index(entries, updated_at)))
    for item in sorted(entries, key=lambda e: e.id):
        digest.update(_dump(item.document))
    return '"' + digest.hexdigest()[:32] + '"'
