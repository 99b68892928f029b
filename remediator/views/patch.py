"""The Dockerfile patch an action suggests, as diff lines ready to colour."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from remediator.models import RemediationAction

log = logging.getLogger(__name__)


@dataclass
class PatchView:
    lines: list[tuple[str, str]] = field(default_factory=list)
    """(css class, text) per diff line."""
    changes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    note: str = ""


def _line_class(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "diff-file"
    if line.startswith("@@"):
        return "diff-hunk"
    if line.startswith("+"):
        return "diff-add"
    if line.startswith("-"):
        return "diff-del"
    return "diff-ctx"


def dockerfile_patch(action: RemediationAction, findings: list) -> PatchView:
    target = action.build_target
    if target is None or not target.dockerfile.strip():
        return PatchView(note="No Dockerfile is stored on this action's build target.")
    try:
        from remediator.dockerfile import patch_for_findings
    except ImportError:
        return PatchView(note="Dockerfile patches are not available in this version.")
    try:
        patch = patch_for_findings(dockerfile=target.dockerfile, findings=findings)
    except Exception:  # a suggestion must never break the page
        log.exception("dockerfile patch failed for action %s", action.pk)
        return PatchView(note="The patch could not be computed for this Dockerfile.")
    diff = getattr(patch, "diff", "") or ""
    return PatchView(
        lines=[(_line_class(line), line) for line in diff.splitlines()],
        changes=list(getattr(patch, "changes", []) or []),
        warnings=list(getattr(patch, "warnings", []) or []),
        note="" if diff else "No change to suggest: no package in the Dockerfile has a fix.",
    )
