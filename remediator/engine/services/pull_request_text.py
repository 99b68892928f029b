"""What a fix pull request says: title, body and commit message, naming every CVE,
package and fixed version it covers and linking back to the action."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from remediator.engine.dockerfile import DockerfilePatch
from remediator.engine.models import RemediationAction

ROWS_SHOWN = 100
MARKER = "remediator-action"
"""An HTML comment in the body names the action's correlation id."""


@dataclass(frozen=True)
class PullText:
    title: str
    body: str
    commit_message: str


def _cell(value: str) -> str:
    return (value or "—").replace("|", "\\|").replace("\n", " ")


def _image(action: RemediationAction) -> str:
    return f"{action.repository}:{action.tag.name or 'latest'}"


def action_url(action: RemediationAction) -> str:
    return f"{settings.BASE_URL}/actions/{action.pk}/"


def pull_text(*, action: RemediationAction, patch: DockerfilePatch, path: str) -> PullText:
    """Title, body and commit message for the action's findings and ``patch``."""
    rows = list(
        action.findings.order_by("vulnerability_id", "package").values_list(
            "vulnerability_id", "severity", "package", "installed_version", "fixed_version"
        )
    )
    cves = sorted({row[0] for row in rows})
    fixed = {}
    for _vuln, _severity, package, _installed, version in rows:
        fixed.setdefault(package, (version or "").split(",")[0].strip())
    packages = ", ".join(f"{p} {v}".strip() for p, v in sorted(fixed.items()))
    named = cves[0] if len(cves) == 1 else f"{len(cves)} vulnerabilities"
    title = f"Fix {named} in {_image(action)}: {packages}"
    if len(title) > 250:
        title = f"Fix {named} in {_image(action)}: upgrade {len(fixed)} package(s)"
    lines = [
        f"[Remediator action #{action.pk}]({action_url(action)}) upgrades `{path}` of "
        f"`{_image(action)}` to the fixed versions of these findings:",
        "",
        "| Vulnerability | Severity | Package | Installed | Fixed in |",
        "|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(_cell(str(v)) for v in row) + " |" for row in rows[:ROWS_SHOWN]]
    if len(rows) > ROWS_SHOWN:
        lines.append(f"\n… and {len(rows) - ROWS_SHOWN} more: see the action.")
    if patch.changes:
        lines += ["", "Changes:", *(f"- {change}" for change in patch.changes)]
    if patch.warnings:
        lines += ["", "Not done here:", *(f"- {warning}" for warning in patch.warnings)]
    lines += [
        "",
        "After the merge Remediator follows the CI build of the merge commit; the next scan "
        "of the image verifies the fix. Remediator updates this branch only while its last "
        "commit is Remediator's: push your own commits and it leaves the branch alone.",
        "",
        f"<!-- {MARKER}: {action.correlation_id} -->",
    ]
    message = f"Fix {', '.join(cves[:10])}{' …' if len(cves) > 10 else ''}: {packages}"[:200]
    message += f"\n\nRemediator action #{action.pk}: {action_url(action)}\n"
    return PullText(title=title, body="\n".join(lines), commit_message=message)
