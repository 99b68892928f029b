"""Fix pull requests: the Dockerfile patch as a GitHub PR / GitLab MR, followed to the end.

States (the rebuild's, read for a PR): approved -> dispatched (the PR is open; findings
joining the action are pushed to its branch) -> running (merged: the CI build of the
merge commit is followed) -> succeeded (built) -> verified / verification_failed by
the next scan, as a rebuild. Closed without merging, or a failed build -> failed.

One branch per image, so one open PR per image: ``remediator/fix-<slug>-<hash>``, a
readable slug of repository and tag plus 16 hex digits of SHA-256 over the exact
(registry, repository, tag), so two images never share a branch (``app:v2-beta`` and
``app-v2:beta``, names cut or non-ASCII), and always a valid ``git check-ref-format
--branch`` name. The branch is stored on the FixPullRequest when it is created and
kept: a pull request opened under an earlier naming keeps its branch. Remediator
changes a branch only while its head is a commit Remediator made (the ``head_sha`` it
recorded) or the base's head: never over anyone else's commits, and never by force.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import replace
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from remediator.core.errors import ProviderError
from remediator.engine.audit import audit_record
from remediator.engine.dockerfile import patch_for_findings
from remediator.engine.models import ActionState, FixPullRequest, RemediationAction
from remediator.integrations.ci import RunStatus
from remediator.integrations.providers import pull_host_for
from remediator.integrations.pulls import PullHost, PullRequest

from .actions import ActionNotAllowed, action_transition
from .pull_request_text import pull_text

S = ActionState
FINDING_FIELDS = ("package", "installed_version", "fixed_version", "package_type")


BRANCH_PREFIX = "remediator/fix-"
SLUG_MAX = 60
BRANCH_HASH_DIGITS = 16
"""64 bits of SHA-256: two images meet on one branch with odds of about n²/2⁶⁵."""


def fix_branch(registry: str, repository: str, tag: str) -> str:
    """The fix branch of one image: readable, injective, a valid git branch name.

    The slug keeps ASCII letters, digits, ``.``, ``_`` and ``-`` of ``repository-tag``
    (accents stripped, anything else one ``-``, no ``..``), cut to SLUG_MAX; the hash
    of the exact triple tells apart what the slug merges. The name has one ``/``, no
    component starting with ``.`` or ``-`` and ends in hex digits, so never in ``.lock``
    or ``.``: every rule of ``git check-ref-format --branch`` holds."""
    exact = "\0".join((registry, repository, tag)).encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(exact).hexdigest()[:BRANCH_HASH_DIGITS]
    readable = unicodedata.normalize("NFKD", f"{repository}-{tag or 'latest'}")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", readable.encode("ascii", "ignore").decode())
    slug = re.sub(r"-{2,}", "-", re.sub(r"\.{2,}", ".", slug))[:SLUG_MAX].strip("-._")
    return f"{BRANCH_PREFIX}{slug}-{digest}" if slug else f"{BRANCH_PREFIX}{digest}"


def branch_for(action: RemediationAction) -> str:
    """The image's fix branch: one per registry, repository and tag."""
    repository = action.repository
    return fix_branch(repository.registry, repository.name, action.tag.name)


def _our_heads(record: FixPullRequest) -> set[str]:
    """Every head commit Remediator recorded for this branch of this target."""
    rows = FixPullRequest.objects.filter(
        build_target_id=record.build_target_id, branch=record.branch
    ).exclude(head_sha="")
    return set(rows.values_list("head_sha", flat=True))


def _audit(action: RemediationAction, record: FixPullRequest, operation: str, outcome: str):
    target = action.build_target
    audit_record(
        kind="provider_call",
        action=action,
        actor_label=f"provider:{target.provider if target else ''}",
        message=f"{operation} {record.branch} -> {record.base}: {outcome}"[:1000],
        data={"operation": operation, "branch": record.branch, "number": record.number},
    )


def _commit(host: PullHost, action: RemediationAction, record: FixPullRequest):
    """Patch the Dockerfile on the branch; (new head sha or None when unchanged, patch)."""
    file = host.file_read(record.path, ref=record.branch)
    findings = action.findings.only(*FINDING_FIELDS)
    patch = patch_for_findings(dockerfile=file.text, findings=findings, path=record.path)
    if not patch.text:
        return None, patch
    text = pull_text(action=action, patch=patch, path=record.path)
    sha = host.file_commit(
        record.path,
        branch=record.branch,
        text=patch.text,
        version=file.version,
        message=text.commit_message,
    )
    record.head_sha = sha
    record.save(update_fields=["head_sha", "updated_at"])
    return sha, patch


def _open(host: PullHost, action: RemediationAction, record: FixPullRequest) -> PullRequest:
    head = host.branch_head(record.branch)
    if head is not None:
        if head not in _our_heads(record) and head != host.branch_head(record.base):
            raise ProviderError(
                f"branch {record.branch} has commits Remediator did not make and no open pull "
                "request: left alone; delete the branch or merge it, then retry",
                permanent=True,
            )
        host.branch_delete(record.branch)  # ours, its PR merged or closed: start afresh
    host.branch_create(record.branch, base=record.base)
    sha, patch = _commit(host, action, record)
    if sha is None:
        host.branch_delete(record.branch)
        why = "; ".join(patch.warnings) or "every package is already at its fixed version"
        raise ProviderError(f"nothing to change in {record.path}: {why}"[:1000], permanent=True)
    text = pull_text(action=action, patch=patch, path=record.path)
    pull = host.pull_open(branch=record.branch, base=record.base, title=text.title, body=text.body)
    _audit(action, record, "open pull request", f"#{pull.number} opened ({sha[:12]})")
    return pull


def _update(
    host: PullHost, action: RemediationAction, record: FixPullRequest, pull: PullRequest
) -> PullRequest:
    if pull.locked:
        _audit(action, record, "update pull request", f"#{pull.number} is being merged: left alone")
        return pull
    if pull.head_sha not in _our_heads(record):
        left = f"#{pull.number} has commits Remediator did not make: branch left alone"
        _audit(action, record, "update pull request", left)
        return pull
    sha, patch = _commit(host, action, record)
    text = pull_text(action=action, patch=patch, path=record.path)
    pull = host.pull_update(pull.number, title=text.title, body=text.body)
    pushed = f"pushed {sha[:12]}" if sha else "nothing new to push"
    _audit(action, record, "update pull request", f"#{pull.number} {pushed}")
    return pull


def pull_request_push(*, action: RemediationAction, may_open: bool = True) -> RemediationAction:
    """Open the action's fix pull request, or bring the image's open one up to date.

    ProviderError propagates (permanent: the caller fails the action)."""
    target = action.build_target
    if target is None:
        raise ProviderError(f"no enabled build target matches {action.repository}", permanent=True)
    host = pull_host_for(target)
    record, _ = FixPullRequest.objects.update_or_create(
        action=action,
        defaults={
            "build_target": target,
            "base": target.ref,
            "path": target.dockerfile_path or "Dockerfile",
        },
        create_defaults={
            "build_target": target,
            "branch": branch_for(action),  # kept for the record's life: never renamed
            "base": target.ref,
            "path": target.dockerfile_path or "Dockerfile",
        },
    )
    found = host.pull_find_open(record.branch, base=record.base)
    if found is None and not may_open:
        return action  # merged or closed meanwhile: the poll will see it
    pull = _open(host, action, record) if found is None else _update(host, action, record, found)
    record.number, record.url, record.state = pull.number, pull.url, pull.state
    record.save(update_fields=["number", "url", "state", "updated_at"])
    RemediationAction.objects.filter(pk=action.pk).update(
        provider_state={**action.provider_state, "pull_request": pull.number}
    )
    action.refresh_from_db()
    return action


def pull_request_update(*, action_id: int) -> RemediationAction:
    """Findings joined an open fix pull request: push them to its branch. A transient
    ProviderError while the dispatch has not opened it yet (the task retries)."""
    action = RemediationAction.objects.select_related("repository", "tag", "build_target").get(
        pk=action_id
    )
    if action.state != S.DISPATCHED:
        return action
    if "pull_request" not in action.provider_state:
        raise ProviderError("the pull request is still being opened", permanent=False)
    return pull_request_push(action=action, may_open=False)


def pull_request_follow(*, action: RemediationAction) -> tuple[RunStatus | None, str]:
    """Where the action's PR is: (the merge's CI build status, or None; an error that
    fails the action, or ''). Merged moves dispatched -> running here."""
    record = FixPullRequest.objects.filter(action=action).first()
    if record is None or record.number is None or action.build_target is None:
        return None, ""  # not opened yet: the dispatch task owns it
    host = pull_host_for(action.build_target)
    if action.state == S.DISPATCHED:
        pull = host.pull_get(record.number)
        record.state = pull.state
        if pull.state == "merged":
            record.merge_commit_sha = pull.merge_commit_sha
            record.merged_at = pull.merged_at or timezone.now()
        record.save(update_fields=["state", "merge_commit_sha", "merged_at", "updated_at"])
        if pull.state == "open":
            return None, ""
        if pull.state == "closed":
            return None, f"pull request #{record.number} was closed without being merged"
        try:
            action = action_transition(
                action_id=action.pk,
                to=S.RUNNING,
                expect=(S.DISPATCHED,),
                actor_label=f"provider:{action.build_target.provider}",
                reason=f"pull request #{record.number} merged as {record.merge_commit_sha[:12]}; "
                "following the CI build of the merge commit",
            )
        except ActionNotAllowed:
            return None, ""  # cancelled meanwhile, or another poll got there first
    if action.state != S.RUNNING:
        return None, ""
    deadline = settings.ACTION_RUN_TIMEOUT_MINUTES
    if record.merged_at and timezone.now() - record.merged_at > timedelta(minutes=deadline):
        return None, (
            f"no CI build of the merge within {deadline} minutes (ACTION_RUN_TIMEOUT_MINUTES)"
        )
    state = action.provider_state
    if "run_id" in state or "pipeline_id" in state:
        status = host.build_status(state)
    else:
        merged = PullRequest(record.number, record.url, "merged", "", record.merge_commit_sha)
        status = host.merge_build(merged, base=record.base)
        if status is None:
            return None, ""  # CI has not started on the merge commit yet
    return replace(status, provider_state={**state, **status.provider_state}), ""
