"""Template context for every dashboard page: the approvals badge in the top nav."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from remediator.engine.selectors import BADGE_CAP, actions_awaiting_count


class _Prefixes(dict):
    """Detail pages are <list URL><pk>/: one reverse per name, not one per table row."""

    def __missing__(self, key: str) -> str:
        names = {
            "findings": "finding-list",
            "images": "image-list",
            "actions": "action-list",
            "deliveries": "delivery-list",
        }
        self[key] = reverse(names[key])
        return self[key]


DETAIL_PREFIXES = _Prefixes()


def _awaiting(user) -> str:
    n = actions_awaiting_count(cap=BADGE_CAP, user=user)
    return f"{BADGE_CAP}+" if n > BADGE_CAP else str(n) if n else ""


def nav(request: HttpRequest) -> dict:
    """Lazy: the count query runs only when a page's nav renders it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    awaiting = SimpleLazyObject(lambda: _awaiting(user))  # of what the user may see
    return {"nav_awaiting": awaiting, "urls": DETAIL_PREFIXES}
