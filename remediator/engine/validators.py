"""Field validators of the build target: where its secrets come from and may go."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from remediator.core.secrets import target_secret_problem
from remediator.integrations.outbound import outbound_url_problem


def validate_secret_name(value: str) -> None:
    """token_env / api_token_env: a prefixed variable or a file in SECRETS_DIR."""
    if value:
        problem = target_secret_problem(value)
        if problem:
            raise ValidationError(problem, code="secret_name")


def validate_outbound_url(value: str) -> None:
    """A CI URL: https, or plain http to a host in PLAIN_HTTP_HOSTS."""
    if value:
        problem = outbound_url_problem(value)
        if problem:
            raise ValidationError(problem, code="outbound_url")
