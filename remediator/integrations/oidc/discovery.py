"""An OpenID provider's metadata, from its discovery document (OpenID Connect Discovery 1.0).

Fetched once with a timeout and no retries (a person is waiting at the sign-in page), then
cached for OIDC_DISCOVERY_CACHE_SECONDS; a failed fetch is not cached. The document must
name the issuer it was fetched for (section 4.3) and endpoints that a client secret may be
sent to (https, or plain http to PLAIN_HTTP_HOSTS).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.cache import cache

from remediator.core.errors import ProviderError
from remediator.integrations.http import HttpClient
from remediator.integrations.outbound import outbound_url_problem

WELL_KNOWN = "/.well-known/openid-configuration"
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    signing_alg: str
    """The id token's algorithm: RS256 when offered (every provider must), else the first
    asymmetric one the provider lists."""


def _cache_key(url: str) -> str:
    return "oidc-discovery:" + hashlib.sha256(url.encode()).hexdigest()[:32]


def metadata_from_document(url: str, document: object) -> ProviderMetadata:
    """The metadata in ``document``, checked; a permanent ProviderError says what is wrong."""
    if not isinstance(document, dict):
        raise ProviderError("oidc: the discovery document is not a JSON object", permanent=True)
    issuer = document.get("issuer")
    expected = url.removesuffix(WELL_KNOWN).rstrip("/")
    if not isinstance(issuer, str) or issuer.rstrip("/") != expected:
        raise ProviderError(
            f"oidc: the discovery document's issuer is not {expected!r}", permanent=True
        )
    found = {}
    for name in ENDPOINTS:
        value = document.get(name)
        problem = outbound_url_problem(value) if isinstance(value, str) else "missing"
        if problem:
            raise ProviderError(
                f"oidc: {name} of the discovery document: {problem}", permanent=True
            )
        found[name] = value
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    usable = [a for a in offered if isinstance(a, str) and a[:2] in ("RS", "ES", "PS")]
    if not usable:
        raise ProviderError(
            "oidc: the provider signs id tokens with no usable algorithm", permanent=True
        )
    alg = "RS256" if "RS256" in usable else usable[0]
    return ProviderMetadata(issuer=issuer, signing_alg=alg, **found)


def provider_metadata(url: str) -> ProviderMetadata:
    """The provider's metadata (cached); ProviderError when it cannot be had."""
    key = _cache_key(url)
    cached = cache.get(key)
    if isinstance(cached, dict):
        return ProviderMetadata(**cached)
    timeout = settings.OIDC_TIMEOUT
    response = HttpClient("oidc", retries=0).request("GET", url, timeout=(timeout, timeout))
    try:
        document = response.json()
    except ValueError as exc:
        raise ProviderError("oidc: the discovery document is not JSON", permanent=True) from exc
    metadata = metadata_from_document(url, document)
    cache.set(key, asdict(metadata), settings.OIDC_DISCOVERY_CACHE_SECONDS)
    return metadata
