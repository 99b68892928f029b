"""The Dockerfile patch an action suggests, for the API and the action's page."""

from __future__ import annotations

from remediator.engine.dockerfile import DockerfilePatch, patch_for_findings
from remediator.engine.models import RemediationAction

from .dispatch import build_target_for


class NoDockerfile(ValueError):
    """Neither the request nor the action's build target has a Dockerfile."""


def action_dockerfile_patch(*, action: RemediationAction, dockerfile: str = "") -> DockerfilePatch:
    """A unified diff upgrading every fixable package the action covers.

    ``dockerfile`` is the text to patch; empty means the one kept on the
    build target that rebuilds the action's image.
    """
    if not dockerfile.strip():
        target = build_target_for(action)
        dockerfile = target.dockerfile if target is not None else ""
    if not dockerfile.strip():
        raise NoDockerfile(
            "no Dockerfile: the build target for this image keeps none; POST one as "
            '{"dockerfile": "..."}'
        )
    findings = action.findings.only("package", "installed_version", "fixed_version", "package_type")
    return patch_for_findings(dockerfile=dockerfile, findings=findings)
