"""What the overview's "N things to set up" banner shows: the checklist's items not yet
green, kept a minute in the shared cache so the overview stays within its query budget.
The checklist page stores a fresh one each time it is shown."""

from __future__ import annotations

from django.core.cache import cache

from .items import Checklist, Item

SUMMARY_KEY = "remediator:setup-to-do:v1"
SUMMARY_SECONDS = 60


def setup_to_do_store(checklist: Checklist) -> list[Item]:
    to_do = checklist.to_do
    cache.set(SUMMARY_KEY, to_do, SUMMARY_SECONDS)
    return to_do


def setup_to_do(*, serving: str = "") -> list[Item]:
    """The stored items to set up; the checklist computed (and stored) when none is."""
    from . import setup_checklist  # the package's entry point, which imports this module

    found = cache.get(SUMMARY_KEY)
    if found is None:
        found = setup_to_do_store(setup_checklist(serving=serving))
    return found
