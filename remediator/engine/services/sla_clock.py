"""An accepted risk and the finding's deadline, by its SLA policy's ``accepted``:

- ``pause``: accepting records when the clock stopped (``sla_paused_at``); when the
  acceptance ends (reopened by a person, or expired) the time it lasted is added to
  ``sla_paused_seconds`` and the deadline moves that much later (a KEV due date does not).
- ``exempt``: an accepted finding has no deadline; reopened, its clock restarts at the
  reopening (``sla_clock_from``): the time before the acceptance is not counted, nor
  the time accepted, and the full period runs again.

What was recorded at acceptance decides the end: a pause recorded ends as a pause even if
the policy changed meanwhile.
"""

from __future__ import annotations

from datetime import datetime

from findings.models import Finding
from remediator.teams.models import SlaPolicy

from .deadlines import due_dates_refresh


def policy_of(finding: Finding) -> SlaPolicy | None:
    """The SLA policy ``finding`` is held to: its owner's, else the default."""
    owner = finding.repository.owner
    if owner is not None and owner.sla_policy_id is not None:
        return owner.sla_policy
    return SlaPolicy.objects.filter(is_default=True).first()


def finding_clock_stop(*, finding_id: int, now: datetime) -> None:
    """The finding was accepted: pause its clock, or exempt it (no deadline)."""
    finding = Finding.objects.select_related("repository__owner__sla_policy").get(pk=finding_id)
    policy = policy_of(finding)
    if policy is not None and policy.accepted == SlaPolicy.Accepted.EXEMPT:
        Finding.objects.filter(pk=finding_id).update(due_at=None, sla_paused_at=None)
    else:
        Finding.objects.filter(pk=finding_id).update(sla_paused_at=now)


def finding_clock_resume(*, finding_id: int, now: datetime) -> None:
    """The acceptance ended: add the pause to the paused time, or restart an exempt
    finding's clock at ``now``; then its deadline again."""
    finding = Finding.objects.get(pk=finding_id)
    if finding.sla_paused_at is not None:
        paused = max(0, int((now - finding.sla_paused_at).total_seconds()))
        Finding.objects.filter(pk=finding_id).update(
            sla_paused_seconds=finding.sla_paused_seconds + paused, sla_paused_at=None
        )
    else:
        Finding.objects.filter(pk=finding_id).update(sla_clock_from=now)
    due_dates_refresh(Finding.objects.filter(pk=finding_id))
