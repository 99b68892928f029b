"""The action engine's services: every write and transition goes through here.

Views, API views, admin actions and Celery tasks call these names.
"""

from .action_dockerfile import NoDockerfile, action_dockerfile_patch
from .actions import TRANSITIONS, ActionNotAllowed, action_transition
from .dispatch import action_dispatch, action_fail, action_poll, actions_dispatch_lost
from .dry_run import RuleDryRun, policy_dry_run
from .evaluate import scan_evaluate
from .gates import (
    GATES,
    action_approve,
    action_cancel,
    action_gate,
    action_reject,
    action_request_pull_request,
    action_request_rebuild,
    action_retry,
)
from .pull_request import pull_request_update
from .verify import verify_overdue, verify_scan

__all__ = [
    "GATES",
    "TRANSITIONS",
    "ActionNotAllowed",
    "NoDockerfile",
    "RuleDryRun",
    "action_approve",
    "action_cancel",
    "action_dispatch",
    "action_dockerfile_patch",
    "action_fail",
    "action_gate",
    "action_poll",
    "action_reject",
    "action_request_pull_request",
    "action_request_rebuild",
    "action_retry",
    "action_transition",
    "actions_dispatch_lost",
    "policy_dry_run",
    "pull_request_update",
    "scan_evaluate",
    "verify_overdue",
    "verify_scan",
]
