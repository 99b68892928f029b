"""Signing in through the identity provider: the start (a redirect carrying state, nonce
and a PKCE challenge, from mozilla-django-oidc) and the callback, which answers every
failure with a page saying what happened, never a 500."""

from __future__ import annotations

import logging

import jwt
import requests
from django.conf import settings
from django.contrib import auth
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from remediator.core.errors import ProviderError
from remediator.integrations.oidc.discovery import provider_metadata

from . import sso_enabled
from .backend import SsoBackend, SsoRefused

logger = logging.getLogger(__name__)
BACKEND = f"{SsoBackend.__module__}.{SsoBackend.__name__}"


def sso_error(request: HttpRequest, title: str, detail: str, status: int) -> HttpResponse:
    context = {"title": title, "detail": detail, "local_login": settings.LOCAL_LOGIN}
    return render(request, "registration/sso_error.html", context, status=status)


def provider_unreachable(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.warning("single sign-on: the identity provider failed: %s", exc)
    return sso_error(
        request,
        "The identity provider cannot be reached",
        f"{settings.OIDC_PROVIDER_NAME} did not answer in time or answered with an error. "
        "Try again in a moment; if it keeps failing, tell an administrator.",
        503,
    )


class SsoStartView(OIDCAuthenticationRequestView):
    """GET /oidc/authenticate/?next=...: to the provider's authorization endpoint."""

    def __init__(self, **kwargs: object) -> None:
        super(OIDCAuthenticationRequestView, self).__init__(**kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso_enabled():
            raise Http404("single sign-on is not configured")
        try:
            metadata = provider_metadata(settings.OIDC_DISCOVERY_URL)
        except ProviderError as exc:
            return provider_unreachable(request, exc)
        self.OIDC_OP_AUTH_ENDPOINT = metadata.authorization_endpoint
        self.OIDC_RP_CLIENT_ID = settings.OIDC_CLIENT_ID
        return super().get(request)


def sso_callback(request: HttpRequest) -> HttpResponse:
    """GET /oidc/callback/?code=...&state=...: the state must be one this browser started
    (its nonce and PKCE verifier are kept with it, used once); then the code is exchanged."""
    if not sso_enabled():
        raise Http404("single sign-on is not configured")
    states = request.session.get("oidc_states")
    state = request.GET.get("state", "")
    if not isinstance(states, dict) or state not in states:
        return sso_error(
            request,
            "This sign-in was not started here",
            "The answer from the identity provider does not match a sign-in started in this "
            "browser (or it was already used). Start again.",
            400,
        )
    started = states.pop(state)
    request.session.modified = True
    if request.GET.get("error") or not request.GET.get("code"):
        return sso_error(
            request,
            "The identity provider did not sign you in",
            f"{settings.OIDC_PROVIDER_NAME} answered: {request.GET.get('error', 'no code')}",
            403,
        )
    try:
        user = SsoBackend().authenticate(
            request, nonce=started.get("nonce"), code_verifier=started.get("code_verifier")
        )
    except SsoRefused:
        return sso_error(
            request,
            "Your account has no role in Remediator",
            "You signed in at the identity provider, but you are in none of the groups that "
            "give a role here (Viewer, Approver or Admin). Ask an administrator to add you.",
            403,
        )
    except requests.HTTPError as exc:
        if exc.response is None or exc.response.status_code >= 500:
            return provider_unreachable(request, exc)
        # the provider refused the code (a wrong PKCE verifier, a code used twice)
        logger.warning("single sign-on: the provider refused the code: %s", exc)
        user = None
    except (ProviderError, requests.RequestException) as exc:
        return provider_unreachable(request, exc)
    except (SuspiciousOperation, jwt.PyJWTError) as exc:
        logger.warning("single sign-on: a token did not verify: %s", exc)
        user = None
    if user is None or not user.is_active:
        return sso_error(
            request,
            "Sign-in failed",
            "The identity provider's answer could not be verified. Start again.",
            400,
        )
    next_url = request.session.pop("oidc_login_next", None)  # checked when it was kept
    auth.login(request, user, backend=BACKEND)
    return HttpResponseRedirect(next_url or settings.LOGIN_REDIRECT_URL)
