"""The one ordered list of severities. Pure Python: parsers import it too."""

from __future__ import annotations

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "negligible", "unknown")
"""Normalised severities, worst first."""

SEVERITY_RANK: dict[str, int] = {
    name: len(SEVERITIES) - 1 - index for index, name in enumerate(SEVERITIES)
}
"""critical 5 ... unknown 0: higher is worse (stored on findings as ``severity_rank``)."""


def severity_rank(severity: str) -> int:
    """The rank of ``severity``; unknown or empty words rank as ``unknown`` (0)."""
    return SEVERITY_RANK.get((severity or "").lower(), 0)
