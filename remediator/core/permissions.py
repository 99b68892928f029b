"""Every permission the product checks, by name, and the groups people are put in.

Codenames keep their app labels ("findings", "remediator"), as the database
stores them. The groups are created by the engine's migration 0003 (Viewer:
every view permission; Security approvers: also approve and request).
"""

from __future__ import annotations

APPROVE_ACTION = "remediator.approve_action"
"""Approve or reject actions, decide about findings (accept the risk, false positive)."""
REQUEST_ACTION = "remediator.add_remediationaction"
"""Ask for a rebuild by hand."""
VIEW_ACTION = "remediator.view_remediationaction"
VIEW_POLICY = "remediator.view_policy"
VIEW_AUDIT = "remediator.view_auditevent"
VIEW_FINDING = "findings.view_finding"
VIEW_REPOSITORY = "findings.view_repository"
VIEW_SCAN = "findings.view_scan"
VIEW_VULNERABILITY = "findings.view_vulnerability"
VIEW_DELIVERY = "findings.view_delivery"
"""Delivery metadata (source, status, error); the raw body and headers also need staff."""
CHANGE_DELIVERY = "findings.change_delivery"
"""Reprocess a stored delivery."""

GROUP_VIEWER = "Viewer"
GROUP_APPROVERS = "Security approvers"
