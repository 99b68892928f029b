"""Image references and digests, normalised as container runtimes parse them.

The rules are those of distribution/reference (``ParseNormalizedNamed``), which Docker,
containerd, CRI-O and the kubelet share, plus the equalities a runtime does not spell
out but the network does (docs/admission.md, "Which image is it?"):

- the first path component is a registry when it holds a '.' or a ':' or is
  ``localhost``; otherwise the registry is Docker Hub and a one-component name gets
  ``library/`` (``nginx`` is ``docker.io/library/nginx``);
- a registry host is case-insensitive (stored lowercase); an IPv6 host is written
  compressed (``[0:0::1]`` is ``[::1]``); a port is a number (``:0443`` is ``:443``);
- ``:443`` is dropped: a runtime reaches a registry over https, whose port it is, so
  ``registry.example.com:443/shop/api`` and ``registry.example.com/shop/api`` are one
  repository. Not for loopback hosts (``localhost``, ``127.0.0.0/8``, ``[::1]``), which
  runtimes reach over plain http (port 80) by default, and never ``:80``: that is a
  different endpoint unless a registry is configured as insecure, which Remediator
  cannot know;
- Docker Hub's host names ``index.docker.io`` (distribution's legacy domain),
  ``registry-1.docker.io`` (where its API is served) and ``registry.hub.docker.com`` (an
  older API host still answering) all name ``docker.io``;
- a repository name is lowercase: a runtime refuses an uppercase one. Parsed ``strict``
  (as an admission review must: what the kubelet would pull), such a reference is
  refused; from a scan report it is lowercased, the only name a runtime could have
  pulled;
- a digest is ``algorithm:hex``. ``strict``: sha256, sha384 or sha512 with their exact
  lowercase hex (what go-digest accepts); from a report: any algorithm of
  distribution's grammar, case folded, a bare 64-hex value read as sha256.
"""

from __future__ import annotations

import ipaddress
import re

from .base import ImageRef, ParseError

DEFAULT_REGISTRY = "docker.io"
DOCKER_HUB_HOSTS = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)
HTTPS_PORT = 443
OFFICIAL_PREFIX = "library"

# From distribution/reference's grammar (ASCII only: Go's \w is ASCII).
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_HOSTNAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")
_IPV6 = re.compile(r"\[([a-f0-9:]+)\]")
_PORT = re.compile(r"[0-9]{1,5}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-z0-9=_-]+")
_HEX64 = re.compile(r"[a-f0-9]{64}")
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
MAX_DIGEST_LENGTH = 150
"""Longer digests (of no registered algorithm) are refused; sha512 takes 135."""
MAX_NAME_LENGTH = 255
"""distribution/reference's NameTotalLengthMax: registry/repository, tag excluded."""
MAX_REFERENCE_LENGTH = 600
"""Name, tag and the longest digest fit in this; longer text is refused unread."""


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


def strict_digest(value: str) -> str:
    """``value`` when a runtime would accept it as a digest (sha256/384/512, exact
    lowercase hex), else ''."""
    algorithm, colon, encoded = value.partition(":")
    expected = _DIGEST_LENGTHS.get(algorithm)
    if not colon or expected is None or not re.fullmatch(rf"[a-f0-9]{{{expected}}}", encoded):
        return ""
    return value


def is_loopback(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or [::1] (a normalised host, without port)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalize_registry(text: str) -> str:
    """A registry ``host[:port]`` as stored: lowercase, IPv6 compressed, the https port
    dropped (not for loopback hosts), Docker Hub's hosts as ``docker.io``.
    Raises ParseError when it is not a host a runtime would accept."""
    lowered = text.lower()
    port = ""
    match = _IPV6.match(lowered)
    if match:
        try:
            host = f"[{ipaddress.IPv6Address(match.group(1)).compressed}]"
        except ValueError:
            raise ParseError(f"image reference: invalid IPv6 registry {_shown(text)}") from None
        rest = lowered[match.end() :]
        if rest:
            if not rest.startswith(":"):
                raise ParseError(f"image reference: invalid registry {_shown(text)}")
            port = rest[1:]
    else:
        host, colon, port = lowered.partition(":")
        if colon and not port:
            raise ParseError(f"image reference: invalid registry port in {_shown(text)}")
        if not _HOSTNAME.fullmatch(host):
            raise ParseError(f"image reference: invalid registry {_shown(text)}")
    if port:
        if not _PORT.fullmatch(port) or int(port) > 65535:
            raise ParseError(f"image reference: invalid registry port in {_shown(text)}")
        port = str(int(port))
        if int(port) == HTTPS_PORT and not is_loopback(host):
            port = ""
    registry = f"{host}:{port}" if port else host
    return DEFAULT_REGISTRY if registry in DOCKER_HUB_HOSTS else registry


def _shown(text: str) -> str:
    """A reference quoted for an error message: escaped, at most 80 characters."""
    return repr(text[:80]) + ("…" if len(text) > 80 else "")


def _split_domain(name: str, *, strict: bool) -> tuple[str, list[str]]:
    """(registry text or '', path components): distribution's splitDockerDomain. An
    uppercase first component is a host to a runtime (``strict``); a report's
    ``MyOrg/App`` is Docker Hub's ``myorg/app``."""
    parts = name.split("/")
    first = parts[0]
    if len(parts) > 1 and (
        "." in first or ":" in first or first == "localhost" or (strict and first.lower() != first)
    ):
        return first, parts[1:]
    return "", parts


def parse_image_reference(text: object, digest: str = "", *, strict: bool = False) -> ImageRef:
    """Parse ``[registry/]repository[:tag][@digest]`` by the runtimes' rules (module doc).

    ``digest`` is used when the text carries none. ``strict``: as a runtime parses a pod's
    image (no surrounding whitespace, lowercase repository, sha256/384/512 digests);
    otherwise as a scan report names it. Raises ParseError naming what is wrong.
    """
    if not isinstance(text, str) or not text.strip():
        raise ParseError("image reference: expected a non-empty string")
    if len(text) > MAX_REFERENCE_LENGTH:
        raise ParseError(f"image reference: longer than {MAX_REFERENCE_LENGTH} characters")
    reference = text if strict else text.strip()
    if any(not ("!" <= ch <= "~") for ch in reference):
        raise ParseError(
            f"image reference: {_shown(reference)} contains whitespace, control or "
            "non-ASCII characters"
        )
    if "://" in reference:
        raise ParseError(f"image reference: {_shown(reference)} is a URL, not a reference")
    if strict and _HEX64.fullmatch(reference):
        raise ParseError("image reference: a 64-hex image id is not a repository name")

    name, at, digest_text = reference.partition("@")
    found_digest = ""
    if at:
        found_digest = strict_digest(digest_text) if strict else normalize_digest(digest_text)
        if not found_digest:
            raise ParseError(f"image reference: invalid digest in {_shown(reference)}")

    tag = ""
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise ParseError(f"image reference: invalid tag in {_shown(reference)}")

    domain, parts = _split_domain(name, strict=strict)
    registry = normalize_registry(domain) if domain else DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and len(parts) == 1:
        parts = [OFFICIAL_PREFIX, *parts]
    repository = "/".join(parts)
    if strict and repository.lower() != repository:
        raise ParseError(
            f"image reference: repository name must be lowercase in {_shown(reference)}"
        )
    repository = repository.lower()
    if not all(_COMPONENT.fullmatch(part) for part in repository.split("/")):
        raise ParseError(f"image reference: invalid repository name in {_shown(reference)}")
    if len(registry) + 1 + len(repository) > MAX_NAME_LENGTH:
        raise ParseError(f"image reference: name longer than {MAX_NAME_LENGTH} characters")
    return ImageRef(
        registry=registry,
        repository=repository,
        tag=tag,
        digest=found_digest or normalize_digest(digest),
    )


def try_image_reference(text: object, digest: str = "", *, strict: bool = False) -> ImageRef | None:
    """Like :func:`parse_image_reference` but None instead of ParseError."""
    try:
        return parse_image_reference(text, digest, strict=strict)
    except ParseError:
        return None
