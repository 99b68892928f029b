"""The Dockerfile patch an action suggests, as diff lines ready to colour."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from remediator.engine.models import RemediationAction
from remediator.engine.services import NoDockerfile, action_dockerfile_patch

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


def dockerfile_patch(action: RemediationAction) -> PatchView:
    try:
        patch = action_dockerfile_patch(action=action)
    except NoDockerfile:
        return PatchView(note="No Dockerfile is stored on this action's build target.")
    except Exception:  # a suggestion must never break the page
        log.exception("dockerfile patch failed for action %s", action.pk)
        return PatchView(note="The patch could not be computed for this Dockerfile.")
    return PatchView(
        lines=[(_line_class(line), line) for line in patch.diff.splitlines()],
        changes=list(patch.changes),
        warnings=list(patch.warnings),
        note="" if patch.diff else "No change to suggest: no package in the Dockerfile has a fix.",
    )
