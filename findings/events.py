"""Stored bodies that are events about a scan, not reports: the seam to integrations.

A Harbor ``SCANNING_COMPLETED`` event carries counts only; the report must be
fetched from Harbor's API. Findings does not talk to outside systems: the
integration that can act on such an event registers an :class:`EventHandler`
here at start-up, and ``delivery_run`` hands it every delivery it claims.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EventHandler:
    name: str
    sources: tuple[str, ...]
    """Delivery sources it may claim, e.g. ("harbor", "auto")."""
    matches: Callable[[object], bool]
    """Is this decoded body one of its events?"""
    process: Callable[..., Any]
    """Called as ``process(delivery=..., document=...)``; raises DeliveryRejected
    (permanent, recorded) or ProviderError with ``permanent=False`` (retry later)."""


_handlers: dict[str, EventHandler] = {}


def event_handler_register(handler: EventHandler) -> None:
    """Add (or replace, by name) a handler."""
    _handlers[handler.name] = handler


def event_handler_for(source: str, document: object) -> EventHandler | None:
    """The handler that claims a delivery of ``source`` holding ``document``, if any."""
    for handler in _handlers.values():
        if source in handler.sources and handler.matches(document):
            return handler
    return None
