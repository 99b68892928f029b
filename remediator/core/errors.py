"""Errors every layer understands."""

from __future__ import annotations


class ProviderError(Exception):
    """A call to an outside system failed. ``permanent``: retrying will not help."""

    def __init__(self, message: str, *, permanent: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status = status
