"""Dockerfile patch suggestions: pin vulnerable packages to their fixed versions.

``dockerfile_patch(dockerfile=..., findings=[PackageFix(...)])`` returns a
:class:`DockerfilePatch` (unified diff, what changed, warnings);
``patch_for_findings`` takes ``findings.models.Finding`` rows instead.
"""

from .upgrade import DockerfilePatch, PackageFix, dockerfile_patch, patch_for_findings

__all__ = ["DockerfilePatch", "PackageFix", "dockerfile_patch", "patch_for_findings"]
