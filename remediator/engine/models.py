"""What we do about findings: policies, build targets, actions, approvals, audit."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from findings.models import Finding, Image, Repository, Scan, Severity, Tag
from remediator.integrations.providers import provider_choices

from .policy_criteria import PolicyCriteria
from .validators import validate_outbound_url, validate_secret_name


class ActionKind(models.TextChoices):
    REBUILD = "rebuild"
    PULL_REQUEST = "pull_request", "Fix pull request"
    RESCAN = "rescan"
    MARK_RISKY = "mark_risky"
    NOTIFY = "notify"
    IGNORE = "ignore"


BUILDING_KINDS = (ActionKind.REBUILD, ActionKind.PULL_REQUEST)
"""Kinds that end in a new image built by CI: verified by a scan of that image."""

Provider = models.TextChoices(
    "Provider", [(slug.upper(), (slug, label)) for slug, label in provider_choices()]
)
"""CI systems a build target can name: one per entry of the integrations' registry."""


class BuildTarget(models.Model):
    """Maps image repositories to the CI pipeline that rebuilds them.

    Secrets are never stored: ``token_env``/``api_token_env`` name environment
    variables with the ``SECRET_ENV_PREFIX`` (or their ``NAME_FILE`` files), or files
    in ``SECRETS_DIR``, that hold them. The URL must be https unless its host is in
    ``PLAIN_HTTP_HOSTS``.
    """

    name = models.SlugField(max_length=100, unique=True)
    image_patterns = models.JSONField(
        default=list, help_text='Globs over "registry/repository", e.g. "docker.io/acme/*".'
    )
    provider = models.CharField(max_length=16, choices=Provider.choices)
    url = models.URLField(
        blank=True,
        validators=[validate_outbound_url],
        help_text="API base URL (GitLab, Jenkins, GitHub Enterprise); https.",
    )
    project = models.CharField(
        max_length=300, help_text="GitLab project id or path; GitHub owner/repo; Jenkins job path."
    )
    ref = models.CharField(max_length=200, default="main")
    workflow = models.CharField(max_length=200, blank=True, help_text="GitHub workflow file or id.")
    username = models.CharField(max_length=200, blank=True, help_text="Jenkins user.")
    token_env = models.CharField(
        max_length=100,
        blank=True,
        validators=[validate_secret_name],
        help_text="Name of the secret: REMEDIATOR_SECRET_… or a file in SECRETS_DIR.",
    )
    api_token_env = models.CharField(max_length=100, blank=True, validators=[validate_secret_name])
    dockerfile = models.TextField(blank=True, help_text="The image's Dockerfile, for patches.")
    dockerfile_path = models.CharField(
        max_length=300,
        default="Dockerfile",
        help_text="Fix pull requests: the Dockerfile's path in the repository (base branch: ref).",
    )
    options = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_provider_display()})"


class Policy(PolicyCriteria):
    """One ordered rule: the first enabled rule that matches a finding decides."""

    name = models.SlugField(max_length=100, unique=True)
    order = models.PositiveIntegerField(default=100)
    enabled = models.BooleanField(default=True)
    description = models.TextField(blank=True)
    action = models.CharField(max_length=16, choices=ActionKind.choices)
    requires_approval = models.BooleanField(default=True)
    notify_channels = models.JSONField(
        default=list, blank=True, help_text='e.g. ["email", "slack"]'
    )
    build_target = models.ForeignKey(
        BuildTarget, null=True, blank=True, on_delete=models.SET_NULL, related_name="policies"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Actions this policy requests are requested on behalf of this person.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "policies"
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class AdmissionPolicy(PolicyCriteria):
    """One admission rule for the Kubernetes webhook (remediator/engine/admission/).

    A finding of an image matches when it meets every condition set here; an
    ``enforce`` policy with a matching finding denies the pod, a ``warn`` one lets it
    in with a warning. Namespaces are selected by a glob over their name: namespace
    labels are not part of an AdmissionReview.
    """

    class Mode(models.TextChoices):
        ENFORCE = "enforce"
        WARN = "warn"

    name = models.SlugField(max_length=100, unique=True)
    order = models.PositiveIntegerField(default=100)
    enabled = models.BooleanField(default=True)
    description = models.TextField(blank=True)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.ENFORCE)
    min_severity = models.CharField(
        max_length=12,
        choices=Severity.choices,
        default=Severity.CRITICAL,
        help_text="Only findings at least this severe.",
    )
    include_wont_fix = models.BooleanField(
        default=True,
        help_text="Also match vendor status will_not_fix / end_of_life (on by default here: "
        "a vendor that will not fix a CVE does not make it safe to run).",
    )
    require_digest = models.BooleanField(
        default=False,
        help_text="Images must be given by digest (@sha256:…): a tag-only reference is denied "
        "(enforce) or warned (warn). Such a policy judges the reference only; its finding "
        "conditions are not used.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "admission policies"
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.mode})"


class ActionState(models.TextChoices):
    PROPOSED = "proposed"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    DISPATCHED = "dispatched"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    VERIFIED = "verified"
    VERIFICATION_FAILED = "verification_failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"


OPEN_STATES = (
    ActionState.PROPOSED,
    ActionState.AWAITING_APPROVAL,
    ActionState.APPROVED,
    ActionState.DISPATCHED,
    ActionState.RUNNING,
    ActionState.SUCCEEDED,
)
"""States in which an action still owns its tag: a new one would be a duplicate."""


class RemediationAction(models.Model):
    """One rebuild / re-scan / mark-risky / notify for one tag, covering a set of findings."""

    kind = models.CharField(max_length=16, choices=ActionKind.choices)
    state = models.CharField(
        max_length=20, choices=ActionState.choices, default=ActionState.PROPOSED
    )
    correlation_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="actions")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="actions")
    image = models.ForeignKey(
        Image, on_delete=models.PROTECT, related_name="actions", help_text="Digest when requested."
    )
    findings = models.ManyToManyField(Finding, related_name="actions", blank=True)
    policy = models.ForeignKey(
        Policy, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    build_target = models.ForeignKey(
        BuildTarget, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    requires_approval = models.BooleanField(default=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requested_actions",
    )
    reason = models.TextField(blank=True)
    external_id = models.CharField(max_length=300, blank=True, help_text="CI run / pipeline id.")
    external_url = models.URLField(max_length=500, blank=True, help_text="Link to the CI run.")
    provider_state = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    risky_marked = models.BooleanField(default=False, help_text="We disallowed it in Aqua.")
    verified_by_scan = models.ForeignKey(
        Scan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    verify_deadline = models.DateTimeField(null=True, blank=True)
    verify_rescan_requested_at = models.DateTimeField(
        null=True, blank=True, help_text="When we asked Aqua to re-scan the rebuilt image."
    )

    class Meta:
        ordering = ["-id"]
        permissions = [("approve_action", "Can approve or reject remediation actions")]
        constraints = [
            models.UniqueConstraint(
                fields=["tag", "kind"],
                condition=Q(state__in=OPEN_STATES),
                name="action_one_open_per_tag_and_kind",
            )
        ]
        indexes = [
            models.Index(fields=["state", "-id"], name="action_state_idx"),
            models.Index(fields=["tag", "kind", "-finished_at"], name="action_cooldown_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} of {self.tag} ({self.state})"


class FixPullRequest(models.Model):
    """The pull / merge request a ``pull_request`` action opened, as last seen.

    ``head_sha`` is the last commit Remediator pushed to ``branch``: the branch is only
    ever updated (or replaced) while its head is still that commit.
    """

    class State(models.TextChoices):
        OPEN = "open"
        MERGED = "merged"
        CLOSED = "closed"

    action = models.OneToOneField(
        RemediationAction, on_delete=models.CASCADE, related_name="pull_request"
    )
    build_target = models.ForeignKey(
        BuildTarget, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    branch = models.CharField(max_length=250)
    base = models.CharField(max_length=200)
    path = models.CharField(max_length=300)
    number = models.PositiveIntegerField(null=True, blank=True, help_text="PR number / MR iid.")
    url = models.URLField(max_length=500, blank=True)
    head_sha = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, blank=True)
    merge_commit_sha = models.CharField(max_length=64, blank=True)
    merged_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["branch", "head_sha"], name="fixpr_branch_head_idx")]

    def __str__(self) -> str:
        return f"{self.branch} #{self.number or '?'} ({self.state or 'not opened'})"


class Approval(models.Model):
    """A person's decision on an action. Four eyes: never the requester's."""

    class Decision(models.TextChoices):
        APPROVE = "approve"
        REJECT = "reject"

    action = models.ForeignKey(
        RemediationAction, on_delete=models.CASCADE, related_name="approvals"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Copied from the action so the database can enforce four eyes.",
    )
    decision = models.CharField(max_length=8, choices=Decision.choices)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_by__isnull=True) | ~Q(user=F("requested_by")),
                name="approval_four_eyes",
            ),
            models.CheckConstraint(
                condition=~Q(decision="reject") | ~Q(reason=""), name="approval_reject_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision} of action {self.action_id} by {self.user_id}"


class AuditEvent(models.Model):
    """Append-only: every state change and every call made to an outside system."""

    class Kind(models.TextChoices):
        TRANSITION = "transition"
        PROVIDER_CALL = "provider_call"
        APPROVAL = "approval"
        NOTIFICATION = "notification"
        CONFIG = "config"
        FINDING = "finding"
        ADMISSION = "admission"
        SIGN_IN = "sign_in"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(
        max_length=150, blank=True, help_text='e.g. "policy:x", "system"'
    )
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    action = models.ForeignKey(
        RemediationAction, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["kind", "-id"], name="audit_kind_idx"),
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["actor", "-id"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_type}:{self.object_id} {self.message[:40]}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[override]
        raise ValueError("audit events are append-only")


class VexDocument(models.Model):
    """One issued version of an OpenVEX document (``remediator.engine.vex``): for an image
    repository (subject: its OCI purl without a version) or one digest (with it). A new
    version is stored only when the statements changed; the newest is what is served."""

    subject = models.CharField(max_length=700, help_text="The product's OCI purl.")
    repository = models.ForeignKey(
        Repository, on_delete=models.CASCADE, related_name="vex_documents"
    )
    image = models.ForeignKey(
        Image,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="vex_documents",
        help_text="The digest, for a digest's document; empty for the repository's.",
    )
    version = models.PositiveIntegerField()
    issued_at = models.DateTimeField()
    statements_hash = models.CharField(max_length=64)
    statements_count = models.PositiveIntegerField(default=0)
    document = models.JSONField(help_text="The OpenVEX document as served.")

    class Meta:
        ordering = ["subject", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "version"], name="vex_subject_version")
        ]
        indexes = [models.Index(fields=["repository", "-version"], name="vex_repository_idx")]

    def __str__(self) -> str:
        return f"{self.subject} v{self.version}"


class VexReissuePending(models.Model):
    """A digest whose VEX documents a scan may have changed, waiting for beat
    (``remediator.engine.vex.reissue.vex_reissue_pending``): a scan marks its digest (one
    upsert) instead of issuing documents on the ingest path."""

    image = models.OneToOneField(
        Image, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    marked_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["marked_at"], name="vex_pending_marked_idx")]

    def __str__(self) -> str:
        return f"VEX of image {self.image_id} to issue again"
