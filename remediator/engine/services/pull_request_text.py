"""What a fix pull request says: title, body and commit message, naming every CVE,
package and fixed version it covers and linking back to the action.

Everything from a report (ids, severities, packages, versions, image names) and from the
Dockerfile is quoted by ``remediator.core.quoting``: in the body, identifiers that pass
their grammar are shown as they are and everything else as inline code (closing keywords
defused); the title and the commit message, which GitHub and GitLab parse for closing
keywords and which a squash merge puts on the default branch, carry only validated
tokens (vulnerability ids, package names, versions, the image reference) and our own
words, none of which is a closing keyword.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from remediator.core.quoting import (
    cell,
    closing_statements,
    code,
    image_reference,
    name_token,
    version_token,
    vulnerability_id,
)
from remediator.core.severity import SEVERITIES
from remediator.engine.dockerfile import DockerfilePatch
from remediator.engine.models import RemediationAction

ROWS_SHOWN = 100
MARKER = "remediator-action"
"""An HTML comment in the body names the action's correlation id."""
TITLE_MAX = 250
IDS_SHOWN = 100
PACKAGES_SHOWN = 80
"""Characters of vulnerability ids and of packages in the commit message's subject line."""


@dataclass(frozen=True)
class PullText:
    title: str
    body: str
    commit_message: str


def _image(action: RemediationAction) -> str:
    return f"{action.repository}:{action.tag.name or 'latest'}"


def action_url(action: RemediationAction) -> str:
    return f"{settings.BASE_URL}/actions/{action.pk}/"


def _listed(items: list[str], limit: int, what: str, unnamed: int = 0) -> str:
    """``items`` joined with commas while they fit in ``limit``; the rest, and ``unnamed``
    ones that are not shown at all, counted ("and 3 more vulnerabilities")."""
    shown: list[str] = []
    for item in items:
        if shown and len(", ".join([*shown, item])) > limit:
            break
        shown.append(item)
    rest = len(items) - len(shown) + unnamed
    if not shown:
        return f"{rest} {what}" if rest else ""
    return ", ".join(shown) + (f" and {rest} more {what}" if rest else "")


def _plain_text(action: RemediationAction, ids: list[str], fixed: dict[str, str]) -> tuple:
    """The title and the commit message's subject, from validated tokens only."""
    valid_ids = [i for i in ids if vulnerability_id(i)]
    packages = [
        f"{name} {version}" if version_token(version) else name
        for name, version in sorted(fixed.items())
        if name_token(name)
    ]
    one = len(valid_ids) == 1 and len(ids) == 1
    named = valid_ids[0] if one else f"{len(ids)} vulnerabilities"
    image = _image(action)
    where = f" in {image}" if image_reference(image) else ""
    title = f"Upgrade {', '.join(packages) or 'packages'} for {named}{where}"
    if len(title) > TITLE_MAX:
        title = f"Upgrade {len(fixed)} package(s) for {named}{where}"[:TITLE_MAX]
    listed = _listed(valid_ids, IDS_SHOWN, "vulnerabilities", len(ids) - len(valid_ids))
    subject = f"Upgrade {_listed(packages, PACKAGES_SHOWN, 'packages') or 'packages'} for {listed}"
    return title, subject


def _severity(value: str) -> str:
    return value if value in SEVERITIES else cell(value)


def pull_text(*, action: RemediationAction, patch: DockerfilePatch, path: str) -> PullText:
    """Title, body and commit message for the action's findings and ``patch``."""
    rows = list(
        action.findings.order_by("vulnerability_id", "package").values_list(
            "vulnerability_id", "severity", "package", "installed_version", "fixed_version"
        )
    )
    ids = sorted({row[0] for row in rows})
    fixed: dict[str, str] = {}
    for row in rows:
        fixed.setdefault(row[2], (row[4] or "").split(",")[0].strip())
    title, subject = _plain_text(action, ids, fixed)
    lines = [
        f"[Remediator action {action.pk}]({action_url(action)}) upgrades {code(path)} of "
        f"{code(_image(action))} to the fixed versions of these findings:",
        "",
        "| Vulnerability | Severity | Package | Installed | Fixed in |",
        "|---|---|---|---|---|",
    ]
    for vuln, severity, package, installed, version in rows[:ROWS_SHOWN]:
        shown_id = vuln if vulnerability_id(vuln) else cell(vuln)
        cells = [shown_id, _severity(severity), cell(package), cell(installed), cell(version)]
        lines.append("| " + " | ".join(cells) + " |")
    if len(rows) > ROWS_SHOWN:
        lines += ["", f"… and {len(rows) - ROWS_SHOWN} more: see the action."]
    if patch.changes:
        lines += ["", "Changes:", "", *(f"- {code(change, 300)}" for change in patch.changes)]
    if patch.warnings:
        lines += ["", "Not done here:", "", *(f"- {code(w, 300)}" for w in patch.warnings)]
    lines += [
        "",
        "After the merge Remediator follows the CI build of the merge commit; the next scan "
        "of the image verifies the fix. Remediator updates this branch only while its last "
        "commit is Remediator's: push your own commits and it leaves the branch alone.",
        "",
        f"<!-- {MARKER}: {action.correlation_id} -->",
    ]
    if closing_statements(title):  # cannot happen with validated tokens; never risk it
        title = f"Upgrade packages for {len(ids)} vulnerabilities"
    if closing_statements(subject):
        subject = f"Upgrade packages for {len(ids)} vulnerabilities"
    message = f"{subject}\n\nRemediator action {action.pk}: {action_url(action)}\n"
    return PullText(title=title, body="\n".join(lines), commit_message=message)
