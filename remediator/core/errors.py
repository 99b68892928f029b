"""Errors every layer understands."""

from __future__ import annotations


class ProviderError(Exception):
    """A call to an outside system failed. ``permanent``: retrying will not help."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status = status
        self.retry_after = retry_after
        """Seconds the outside system asked us to wait before trying again (rate limits)."""
