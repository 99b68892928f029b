"""How API views call the engine's services: input checked, refusals answered.

A refusal (``ActionNotAllowed``) becomes ``{"error": code, "detail": why}`` with
403 for permission and four eyes, 409 for the wrong state or nothing to act on
(``no_findings``), 400 for bad input, 422 for a well-formed request this object cannot
take (no build target that opens pull requests, an acceptance ending in the past: what
no schema can say);
an unknown id becomes 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from rest_framework import status
from rest_framework.request import Request
from rest_framework.serializers import Serializer

from remediator.api.errors import ApiError
from remediator.engine.services import ActionNotAllowed

T = TypeVar("T")

REFUSAL_STATUS = {
    "wrong_state": status.HTTP_409_CONFLICT,
    "four_eyes": status.HTTP_403_FORBIDDEN,
    "permission_denied": status.HTTP_403_FORBIDDEN,
    "invalid": status.HTTP_400_BAD_REQUEST,
    "no_findings": status.HTTP_409_CONFLICT,
    "covered_by_rebuild": status.HTTP_409_CONFLICT,
    "not_dispatchable": status.HTTP_409_CONFLICT,
    "no_build_target": status.HTTP_422_UNPROCESSABLE_ENTITY,
    "until_past": status.HTTP_422_UNPROCESSABLE_ENTITY,
    "incomplete": status.HTTP_422_UNPROCESSABLE_ENTITY,
    "reason_required": status.HTTP_422_UNPROCESSABLE_ENTITY,
}


def service_call(run: Callable[[], T], *, not_found: type[Exception], what: str) -> T:
    """Run a service call; its refusals become JSON errors with the right status."""
    try:
        return run()
    except ActionNotAllowed as exc:
        raise ApiError(REFUSAL_STATUS.get(exc.code, 409), exc.code, str(exc)) from exc
    except not_found as exc:
        raise ApiError(404, "not_found", f"no such {what}") from exc


def valid_input(serializer_class: type[Serializer], request: Request) -> dict:
    """The request body checked by ``serializer_class``; 400 naming each bad field."""
    serializer = serializer_class(data=request.data)
    if not serializer.is_valid():
        detail = "; ".join(
            f"{field}: {' '.join(str(m) for m in messages)}"
            for field, messages in serializer.errors.items()
        )
        raise ApiError(400, "invalid", detail)
    return serializer.validated_data
