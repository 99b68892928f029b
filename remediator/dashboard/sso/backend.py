"""The OpenID Connect backend: mozilla-django-oidc's code exchange, nonce and signature
checks, with the endpoints from discovery, the issuer and audience checked, people matched
by (issuer, sub), and roles and teams from the groups claim at each sign-in.

Only the SSO callback view calls it (with ``nonce``): a password sign-in passes it by.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from remediator.core.sso_roles import groups_from_claims, roles_for_groups
from remediator.engine.services.sso import sso_refusal_record, sso_sign_in
from remediator.integrations.oidc.discovery import ProviderMetadata, provider_metadata
from remediator.teams.models import SsoIdentity

from . import sso_enabled


class SsoRefused(Exception):
    """The provider vouched for the person, but Remediator gives them no role."""


class SsoBackend(OIDCAuthenticationBackend):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The endpoints come from discovery, per sign-in (authenticate), not from settings.
        self.UserModel = get_user_model()

    def configure(self, metadata: ProviderMetadata) -> None:
        self.metadata = metadata
        self.OIDC_OP_TOKEN_ENDPOINT = metadata.token_endpoint
        self.OIDC_OP_USER_ENDPOINT = metadata.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = metadata.jwks_uri
        self.OIDC_RP_SIGN_ALGO = metadata.signing_alg
        self.OIDC_RP_IDP_SIGN_KEY = None
        self.OIDC_RP_CLIENT_ID = settings.OIDC_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_CLIENT_SECRET

    def authenticate(self, request: Any, **kwargs: Any) -> Any:
        if request is None or "nonce" not in kwargs or not sso_enabled():
            return None
        self.configure(provider_metadata(settings.OIDC_DISCOVERY_URL))
        return super().authenticate(request, **kwargs)

    def verify_token(self, token: str, **kwargs: Any) -> dict:
        """The library checks the signature, expiry and nonce; the issuer and the audience
        (this client) are checked here."""
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if payload.get("iss") != self.metadata.issuer:
            raise SuspiciousOperation("id token from another issuer")
        if settings.OIDC_CLIENT_ID not in audiences:
            raise SuspiciousOperation("id token for another client")
        return payload

    def get_userinfo(self, access_token: str, id_token: str, payload: dict) -> dict:
        """The id token's claims with the userinfo endpoint's (the groups may be in either:
        Entra ID sends them in the id token only)."""
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if not isinstance(userinfo, dict) or userinfo.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("userinfo is about someone else")
        return {**payload, **userinfo}

    def verify_claims(self, claims: dict) -> bool:
        return isinstance(claims.get("sub"), str) and bool(claims["sub"])

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict) -> Any:
        claims = self.get_userinfo(access_token, id_token, payload)
        if not self.verify_claims(claims):
            raise SuspiciousOperation("no sub claim")
        issuer, subject = self.metadata.issuer, claims["sub"]
        groups = groups_from_claims(claims, settings.OIDC_GROUPS_CLAIM)
        roles = roles_for_groups(
            groups,
            admin=settings.OIDC_ADMIN_GROUPS,
            approver=settings.OIDC_APPROVER_GROUPS,
            viewer=settings.OIDC_VIEWER_GROUPS,
        )
        identity = (
            SsoIdentity.objects.select_related("user")
            .filter(issuer=issuer, subject=subject)
            .first()
        )
        if not roles:
            user = identity.user if identity else None
            reason = "in none of the groups that map to a role"
            sso_refusal_record(
                user=user, subject=subject, issuer=issuer, groups=groups, reason=reason
            )
            raise SsoRefused(reason)
        if identity is None:
            identity = self.identity_create(claims, issuer, subject)
        user = self.update_user(identity.user, claims)
        sso_sign_in(user=user, identity=identity, roles=roles, groups=groups)
        return user

    def identity_create(self, claims: dict, issuer: str, subject: str) -> SsoIdentity:
        """A new user (no password: they sign in through the provider only) and identity."""
        user = self.UserModel.objects.create_user(self.free_username(claims, subject))
        return SsoIdentity.objects.create(user=user, issuer=issuer, subject=subject)

    def free_username(self, claims: dict, subject: str) -> str:
        """preferred_username, else the e-mail address, else sub; a taken name (a local
        account, or someone at another issuer) gets a suffix: never someone else's account."""
        wanted = next(
            (
                value.strip()
                for value in (claims.get("preferred_username"), claims.get("email"), subject)
                if isinstance(value, str) and value.strip()
            ),
            subject,
        )[:120]
        name, n = wanted, 1
        while self.UserModel.objects.filter(username=name).exists():
            n += 1
            name = f"{wanted}-{n}"
        return name

    def update_user(self, user: Any, claims: dict) -> Any:
        fields = {
            "email": claims.get("email"),
            "first_name": claims.get("given_name"),
            "last_name": claims.get("family_name"),
        }
        changed = []
        for field, value in fields.items():
            if isinstance(value, str) and value[:150] != getattr(user, field):
                setattr(user, field, value[:150])
                changed.append(field)
        if changed:
            user.save(update_fields=changed)
        return user
