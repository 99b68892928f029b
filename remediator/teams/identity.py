"""A person's identity at the single sign-on provider: the issuer and its ``sub`` claim.

People signing in through OpenID Connect are matched by (issuer, sub), never by e-mail
address: ``sub`` is the provider's stable, never-reassigned identifier, while an address
can change, be reused by someone else later, or (at some providers) be set by the user
unverified, so matching by it would let one person take over another's account.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SsoIdentity(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identity"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255, help_text="The provider's `sub` claim.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "teams"
        verbose_name = "SSO identity"
        verbose_name_plural = "SSO identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.subject} at {self.issuer})"
