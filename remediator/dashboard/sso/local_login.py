"""Password sign-in, which LOCAL_LOGIN=false switches off: /login/ then offers single
sign-on only and refuses password posts; superusers can still sign in at /login/local/
(break-glass: the identity provider is down or misconfigured), each use audited and
logged. The admin's own sign-in form follows the same rule."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from remediator.core.client import client_address
from remediator.engine.services.sso import break_glass_record, local_login_refusal_record

from . import sso_enabled

TEMPLATE = "registration/login.html"
MISMATCH = "Your user name and password didn't match. Please try again."
BREAK_GLASS_ONLY = "Local sign-in is switched off; only an administrator may sign in here."


class SignInView(LoginView):
    """/login/: the password form (unless switched off) and "Sign in with <provider>"."""

    template_name = TEMPLATE
    break_glass = False

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = kwargs.get("form")
        error = ""
        if form is not None and form.errors:
            codes = {e.code for e in form.non_field_errors().as_data()}
            error = BREAK_GLASS_ONLY if "break_glass_only" in codes else MISMATCH
        return super().get_context_data(
            form_error=error,
            sso_enabled=sso_enabled(),
            sso_name=settings.OIDC_PROVIDER_NAME,
            password_form=settings.LOCAL_LOGIN or self.break_glass,
            break_glass=self.break_glass and not settings.LOCAL_LOGIN,
            **kwargs,
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if settings.LOCAL_LOGIN or self.break_glass:
            return super().post(request, *args, **kwargs)
        username = str(request.POST.get("username", ""))[:150]
        local_login_refusal_record(
            username=username,
            address=client_address(request),
            reason="password sign-in is switched off (LOCAL_LOGIN=false)",
        )
        context = self.get_context_data(refused=True)
        return render(request, TEMPLATE, context, status=403)


class BreakGlassForm(AuthenticationForm):
    """With local login off, only a superuser's password is accepted."""

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if settings.LOCAL_LOGIN:
            return
        address = client_address(self.request) if self.request else ""
        if not user.is_superuser:
            local_login_refusal_record(
                username=user.get_username(),
                address=address,
                reason="break-glass sign-in is for superusers only",
            )
            raise forms.ValidationError(BREAK_GLASS_ONLY, code="break_glass_only")
        break_glass_record(user=user, address=address)


class BreakGlassSignInView(SignInView):
    """/login/local/: the password form, for superusers only when local login is off."""

    authentication_form = BreakGlassForm
    break_glass = True


def admin_sign_in(request: HttpRequest) -> HttpResponse:
    """/admin/login/: the admin's own form while local login is on, else /login/."""
    if settings.LOCAL_LOGIN:
        return admin.site.login(request)
    return redirect_to_login(request.GET.get("next", "/admin/"), settings.LOGIN_URL)
