"""Docker image references and digests, normalised by Docker's own rules."""

from __future__ import annotations

import re

from .base import ImageRef, ParseError

DEFAULT_REGISTRY = "docker.io"
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})

# From distribution/reference: path components, tags, hosts, digests.
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_HOST = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]+)?"
)
_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-z0-9=_-]+")
_HEX64 = re.compile(r"[a-f0-9]{64}")
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
MAX_DIGEST_LENGTH = 150
"""Longer digests (of no registered algorithm) are refused; sha512 takes 135."""
MAX_NAME_LENGTH = 255
"""distribution/reference's NameTotalLengthMax: registry/repository, tag excluded."""


def normalize_digest(value: object) -> str:
    """``'sha256:<hex>'`` from a digest with or without its algorithm; '' if none/invalid."""
    if not isinstance(value, str):
        return ""
    digest = value.strip().lower()
    if not digest:
        return ""
    if _HEX64.fullmatch(digest):
        return f"sha256:{digest}"
    if len(digest) > MAX_DIGEST_LENGTH or not _DIGEST.fullmatch(digest):
        return ""
    algorithm, _, encoded = digest.partition(":")
    expected = _DIGEST_LENGTHS.get(algorithm)
    if expected is not None and not re.fullmatch(rf"[a-f0-9]{{{expected}}}", encoded):
        return ""
    return digest


def parse_image_reference(text: object, digest: str = "") -> ImageRef:
    """Parse ``[registry/]repository[:tag][@digest]`` by Docker's reference rules.

    The first path component is a registry only if it contains '.' or ':' or
    is 'localhost'; otherwise the registry is docker.io and one-component
    names get 'library/'. ``digest`` is used when the text carries none.
    Raises ParseError for empty or malformed references.
    """
    if not isinstance(text, str) or not text.strip():
        raise ParseError("image reference: expected a non-empty string")
    reference = text.strip()
    if any(ch.isspace() for ch in reference) or "://" in reference:
        raise ParseError(f"image reference: {reference!r} is not a valid reference")

    name, at, digest_text = reference.partition("@")
    found_digest = ""
    if at:
        found_digest = normalize_digest(digest_text)
        if not found_digest:
            raise ParseError(f"image reference: invalid digest in {reference!r}")

    tag = ""
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise ParseError(f"image reference: invalid tag in {reference!r}")

    parts = name.split("/")
    first = parts[0]
    if len(parts) > 1 and ("." in first or ":" in first or first == "localhost"):
        registry = first.lower()
        parts = parts[1:]
        if not _HOST.fullmatch(registry):
            raise ParseError(f"image reference: invalid registry in {reference!r}")
    else:
        registry = DEFAULT_REGISTRY
    if registry in _DOCKER_HUB_ALIASES:
        registry = DEFAULT_REGISTRY
        if len(parts) == 1:
            parts = ["library", *parts]

    repository = "/".join(parts).lower()
    if not parts or not all(_COMPONENT.fullmatch(part.lower()) for part in parts):
        raise ParseError(f"image reference: invalid repository name in {reference!r}")
    if len(registry) + 1 + len(repository) > MAX_NAME_LENGTH:
        raise ParseError(f"image reference: name longer than {MAX_NAME_LENGTH} characters")
    return ImageRef(
        registry=registry,
        repository=repository,
        tag=tag,
        digest=found_digest or normalize_digest(digest),
    )


def try_image_reference(text: object, digest: str = "") -> ImageRef | None:
    """Like :func:`parse_image_reference` but None instead of ParseError."""
    try:
        return parse_image_reference(text, digest)
    except ParseError:
        return None
