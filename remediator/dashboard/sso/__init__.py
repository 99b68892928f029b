"""Single sign-on through OpenID Connect (mozilla-django-oidc): docs/sso.md."""

from __future__ import annotations

from django.conf import settings


def sso_enabled() -> bool:
    """SSO is on when the discovery URL and the client id are both set."""
    return bool(settings.OIDC_DISCOVERY_URL and settings.OIDC_CLIENT_ID)
