"""What was received and what is wrong: the detection side's nouns.

Repository (registry + name) -> Image (one digest) and Tag (a moving pointer,
the "stream" whose scans decide a finding's lifecycle) -> Scan -> Finding.
Vulnerability is shared by every finding of the same id. Delivery is the raw
body exactly as a scanner sent it: a row of this app (its table, its permissions and
Scan's foreign key to it), written only by ``remediator.intake``.
"""

from __future__ import annotations

import io
import zlib

import zstandard
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from remediator.core.severity import SEVERITIES

from .bulk import in_ids
from .justifications import JUSTIFICATION_CHOICES
from .parsers import SOURCES
from .querysets import FindingQuerySet
from .scansets import decode_ids

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def body_decompress(stored: bytes) -> bytes:
    """A stored raw body: a Zstandard frame (every body stored now, content size in its
    header) or, in rows stored before, zlib."""
    if stored[:4] == ZSTD_MAGIC:
        return zstandard.ZstdDecompressor().decompress(stored)
    return zlib.decompress(stored)


def body_head(stored: bytes, cap: int) -> bytes:
    """At most the first ``cap`` bytes of a stored raw body, decompressing no more."""
    if stored[:4] == ZSTD_MAGIC:
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(stored)) as reader:
            return reader.read(cap)
    return zlib.decompressobj().decompress(stored, cap)


def clip(value: str, length: int) -> str:
    """``value`` cut to fit a column of ``length`` characters, an ellipsis marking the cut."""
    return value if len(value) <= length else value[: length - 1] + "…"


Severity = models.TextChoices("Severity", [(name.upper(), name) for name in SEVERITIES])
"""The severity order of ``remediator.core.severity``, worst first."""

Source = models.TextChoices("Source", [(slug.upper().replace("-", "_"), slug) for slug in SOURCES])
"""What sent a report: one per entry of the parsers' registry, and ``auto``."""


class Repository(models.Model):
    """An image repository in a registry, e.g. docker.io/library/alpine."""

    registry = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by the engine from the teams' ownership rules (remediator/teams/models.py);
    # empty: unowned.
    owner = models.ForeignKey(
        "teams.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="repositories",
    )
    owner_reason = models.CharField(
        max_length=300, blank=True, help_text="Which ownership rule matched, and on what."
    )

    class Meta:
        verbose_name_plural = "repositories"
        ordering = ["registry", "name"]
        constraints = [
            models.UniqueConstraint(fields=["registry", "name"], name="repository_unique")
        ]
        indexes = [models.Index(fields=["name"], name="repository_name_idx")]

    def __str__(self) -> str:
        return f"{self.registry}/{self.name}"


class Image(models.Model):
    """One image manifest, identified by its digest ('' when the scanner gave none)."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="images")
    digest = models.CharField(max_length=150, blank=True, help_text="Up to sha512:<128 hex>.")
    first_seen = models.DateTimeField(auto_now_add=True)
    running_last_seen = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The last time the inventory saw this digest running anywhere (kept when "
        "the inventory rows expire: when a vulnerable digest stopped running).",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "digest"], name="image_unique_digest")
        ]
        # Admission judges a digest by what is known of it under any repository name.
        indexes = [models.Index(fields=["digest"], name="image_digest_idx")]

    def __str__(self) -> str:
        return f"{self.repository}@{self.digest}" if self.digest else str(self.repository)


class Tag(models.Model):
    """A tag of a repository ('' for scans by digest) and the image it points at now.

    Findings belong to a tag stream: the newest scan of a tag decides which of
    its findings are still open.
    """

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=128, blank=True)
    image = models.ForeignKey(Image, on_delete=models.PROTECT, related_name="tags")
    latest_scan = models.ForeignKey(
        "Scan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    latest_scanned_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["repository_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["repository", "name"], name="tag_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.repository}:{self.name}" if self.name else f"{self.repository} (untagged)"


class Delivery(models.Model):
    """One body received from a scanner (webhook, CLI or API), kept raw and compressed."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        PROCESSED = "processed"
        REJECTED = "rejected"
        IGNORED = "ignored"

    source = models.CharField(max_length=16, choices=Source.choices)
    external_id = models.CharField(
        max_length=200, blank=True, help_text="The sender's own delivery id, when it sends one."
    )
    sha256 = models.CharField(max_length=64)
    body_gz = models.BinaryField(
        help_text="The raw body, Zstandard-compressed (zlib in rows stored before 2026-12)."
    )
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=200, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    image_hint = models.CharField(
        max_length=500, blank=True, help_text="Image reference supplied beside the body."
    )
    channel = models.CharField(max_length=16, default="webhook")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was last handed to the broker (null: not yet)."
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    refused = models.PositiveIntegerField(
        default=0,
        db_default=0,  # rows inserted by raw SQL (bench/dashboard.py) name no value
        help_text="Findings of the report refused at the parser boundary (control "
        "characters, absurd lengths, no advisory id); the rest was ingested.",
    )
    refusals = models.JSONField(
        default=list,
        db_default=[],
        blank=True,
        help_text="Why, for the first few, each value shown escaped.",
    )

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "sha256"], name="delivery_unique_body"),
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="delivery_unique_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="delivery_status_idx"),
            models.Index(fields=["sha256"], name="delivery_sha256_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source} delivery {self.pk} ({self.status})"

    @property
    def body(self) -> bytes:
        return body_decompress(bytes(self.body_gz))

    def body_head(self, cap: int) -> bytes:
        """At most the first ``cap`` bytes of the raw body (for previews)."""
        return body_head(bytes(self.body_gz), cap)

    @property
    def scan(self) -> Scan | None:
        """Its first (for most formats, only) scan; Kubernetes reports have one per image
        (``scans``). Uses ``prefetch_related("scans")`` when the caller made it."""
        return min(self.scans.all(), key=lambda scan: scan.part, default=None)

    @staticmethod
    def compress(body: bytes) -> bytes:
        return zstandard.ZstdCompressor(level=3).compress(body)


class Scan(models.Model):
    """One scan result of one image digest, from one Delivery."""

    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="scans")
    part = models.PositiveIntegerField(
        default=0,
        help_text="Which image of its delivery this scan is (0 for single-image reports; "
        "Kubernetes reports hold one per image).",
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    image = models.ForeignKey(Image, on_delete=models.PROTECT, related_name="scans")
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="scans")
    scanner = models.CharField(max_length=100, blank=True)
    scanner_key = models.CharField(
        max_length=120,
        blank=True,
        help_text='Which scanner this is, for evidence: source and scanner name ("trivy:trivy").',
    )
    failure = models.TextField(
        blank=True,
        help_text="Why the report says the scan failed or is partial: such a scan changes nothing.",
    )
    scanner_scan_id = models.CharField(max_length=100, blank=True)
    os = models.CharField(max_length=100, blank=True)
    scanned_at = models.DateTimeField(help_text="When the scanner scanned (else when received).")
    reported_scanned_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The scan time the report gave when it lay in the future and was clamped "
        "to the receive time (SCAN_TIME_MAX_SKEW_SECONDS); null otherwise.",
    )
    received_at = models.DateTimeField(auto_now_add=True)
    findings_count = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(
        default=0,
        db_default=0,
        help_text="Findings refused at the parser boundary: a scan with refused findings "
        "turns no witness absent and closes nothing (a refused finding is no evidence of "
        "absence).",
    )
    severity_counts = models.JSONField(default=dict, blank=True)
    findings_digest = models.CharField(
        max_length=32,
        blank=True,
        default="",
        db_default="",
        help_text="Digest of the findings as the report sent them: a re-scan with the same "
        "takes this scan's finding set without parsing them.",
    )
    superseded = models.BooleanField(
        default=False,
        help_text="Arrived after a newer scan of the same tag by the same scanner; "
        "changed no status.",
    )
    workloads = models.JSONField(
        default=list,
        blank=True,
        help_text="The Kubernetes workloads the image was reported in "
        "({cluster, namespace, kind, name, container}), for Kubernetes reports.",
    )

    class Meta:
        ordering = ["-scanned_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "part"], name="scan_delivery_part_unique")
        ]
        indexes = [
            models.Index(fields=["tag", "-scanned_at"], name="scan_tag_latest_idx"),
            models.Index(fields=["tag", "scanner_key", "-scanned_at"], name="scan_tag_scanner_idx"),
            models.Index(fields=["image", "-scanned_at"], name="scan_image_idx"),
            models.Index(fields=["-scanned_at"], name="scan_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"scan {self.pk} of {self.tag}"

    @property
    def failed(self) -> bool:
        return bool(self.failure)

    @property
    def findings(self) -> models.QuerySet[Finding]:
        """The findings this scan listed (kept as one ScanFindingSet row)."""
        row = ScanFindingSet.objects.filter(scan=self).values_list("ids", flat=True).first()
        return Finding.objects.filter(pk__in=in_ids(decode_ids(row)))


class Vulnerability(models.Model):
    """A published vulnerability: CVE, GHSA, DSA, ... shared by all its findings."""

    id = models.CharField(primary_key=True, max_length=100, verbose_name="vulnerability id")
    title = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=12, choices=Severity.choices, default="unknown")
    cvss_score = models.FloatField(null=True, blank=True)
    cvss_vector = models.CharField(max_length=200, blank=True)
    links = models.JSONField(default=list, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    content_hash = models.CharField(
        max_length=32,
        blank=True,
        default="",
        db_default="",  # rows inserted by raw SQL (bench data, imports) need none
        help_text="Hash of the details a report last brought: an unchanged one is not rewritten.",
    )
    report_hash = models.CharField(
        max_length=32,
        blank=True,
        default="",
        db_default="",
        help_text="Hash of the fields the report that brought them gave, as it gave them: "
        "the same again needs no details built.",
    )

    class Meta:
        verbose_name_plural = "vulnerabilities"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.id


class Finding(models.Model):
    """One vulnerability in one package version in one repository's tag stream."""

    class Status(models.TextChoices):
        OPEN = "open"
        IN_REMEDIATION = "in_remediation"
        FIXED = "fixed"
        ACCEPTED = "accepted"
        FALSE_POSITIVE = "false_positive"

    # No single-column indexes on these three: finding_repo_idx, finding_dedup_key and
    # finding_vuln_idx lead with them (measured with bench/dashboard.py).
    repository = models.ForeignKey(
        Repository, on_delete=models.CASCADE, related_name="findings", db_index=False
    )
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="findings", db_index=False)
    vulnerability = models.ForeignKey(
        Vulnerability, on_delete=models.PROTECT, related_name="findings", db_index=False
    )
    package = models.CharField(max_length=300)
    installed_version = models.CharField(max_length=200, blank=True)
    package_type = models.CharField(max_length=32, default="unknown")
    fixed_version = models.CharField(max_length=300, blank=True, help_text="Comma-separated.")
    fixable = models.BooleanField(default=False)
    fixable_since = models.DateTimeField(
        null=True, blank=True, help_text="When a scan first reported a fixed version."
    )
    severity = models.CharField(max_length=12, choices=Severity.choices, default="unknown")
    severity_rank = models.PositiveSmallIntegerField(default=0)
    cvss_score = models.FloatField(null=True, blank=True)
    vendor_status = models.CharField(max_length=32, blank=True)
    locations = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    status_reason = models.TextField(blank=True)
    accepted_until = models.DateTimeField(null=True, blank=True)
    vex_justification = models.CharField(
        max_length=60,
        blank=True,
        default="",
        db_default="",
        choices=JUSTIFICATION_CHOICES,
        help_text="Why it is not affected (OpenVEX justification), for a false positive.",
    )
    decided_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the current decision (accepted, false positive) was made.",
    )
    investigating_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Under investigation since (an open finding; the reason is status_reason). "
        "Cleared by any decision, a fix, or stopping the investigation.",
    )
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField(
        help_text="As of its last change of presence; while a witness still lists it, the "
        "live value is that scanner's newest scan of the tag (FindingQuerySet.with_last_seen)."
    )
    # Scans are never deleted but by the demo reset: no index for ON DELETE SET NULL.
    first_scan = models.ForeignKey(
        Scan, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )
    last_scan = models.ForeignKey(
        Scan, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )
    fixed_at = models.DateTimeField(null=True, blank=True)
    fixed_by_scan = models.ForeignKey(
        Scan, on_delete=models.SET_NULL, null=True, blank=True, related_name="fixed_findings"
    )
    reopened_count = models.PositiveIntegerField(default=0)
    reopened_at = models.DateTimeField(null=True, blank=True)
    # Deadlines (remediator/teams/deadlines.py): kept after the finding closes, so that
    # fixed_at <= due_at says whether it was fixed in time.
    due_at = models.DateTimeField(null=True, blank=True)
    sla_paused_seconds = models.PositiveIntegerField(
        default=0, db_default=0, help_text="Time an accepted risk paused the clock."
    )
    sla_paused_at = models.DateTimeField(
        null=True, blank=True, help_text="When the current pause (an accepted risk) began."
    )
    sla_breach_notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the owning team was told it is overdue (once)."
    )
    sla_clock_from = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the clock restarted (an exempt acceptance ended): the deadline counts "
        "from here when that is later than detection (or the fix's release).",
    )

    objects = FindingQuerySet.as_manager()

    class Meta:
        ordering = ["-severity_rank", "-id"]
        constraints = [
            # The package type is not part of the key: a scanner that does not know the
            # ecosystem ("unknown") reports the same finding as one that does.
            models.UniqueConstraint(
                fields=["tag", "vulnerability", "package", "installed_version"],
                name="finding_dedup_key",
            )
        ]
        indexes = [
            models.Index(fields=["status", "-severity_rank", "-id"], name="finding_status_sev_idx"),
            models.Index(
                fields=["repository", "status", "-severity_rank"], name="finding_repo_idx"
            ),
            # The package filter ignores case (findings.selectors.findings): UPPER(package).
            models.Index(Upper("package"), "status", name="finding_package_upper_idx"),
            models.Index(fields=["vulnerability", "status"], name="finding_vuln_idx"),
            models.Index(fields=["tag", "status"], name="finding_tag_idx"),
            models.Index(fields=["-last_seen"], name="finding_last_seen_idx"),
            models.Index(fields=["status", "due_at"], name="finding_status_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.vulnerability_id} in {self.package} {self.installed_version}"

    def _head_newer(self) -> bool:
        head = getattr(self, "head_seen_at", None)
        return head is not None and head >= self.last_seen

    @property
    def seen_at(self):  # -> datetime
        """When it was last seen: live with ``Finding.objects.with_last_seen()``."""
        return self.head_seen_at if self._head_newer() else self.last_seen

    @property
    def seen_scan_id(self) -> int | None:
        """The scan that last saw it: live with ``Finding.objects.with_last_seen()``."""
        return self.head_scan_id if self._head_newer() else self.last_scan_id


class ScanFindingSet(models.Model):
    """Which findings a scan saw, as one row per scan: the finding ids, sorted, delta-coded
    and compressed (``findings.scansets``). A re-scan of 20,000 findings writes one row of
    about a kilobyte, not 20,000 link rows."""

    scan = models.OneToOneField(
        Scan, primary_key=True, on_delete=models.CASCADE, related_name="finding_set"
    )
    count = models.PositiveIntegerField(default=0)
    ids = models.BinaryField(help_text="zlib(little-endian int64 deltas of the sorted ids).")

    def __str__(self) -> str:
        return f"scan {self.scan_id} saw {self.count} findings"


class ScannerStream(models.Model):
    """One scanner's view of one tag: its newest successful scan. While a witness of that
    scanner is present, the finding was last seen by this scan, so a re-scan moves this
    one row instead of every finding's last_seen."""

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="streams")
    scanner_key = models.CharField(max_length=120)
    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="+")
    scanned_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tag", "scanner_key"], name="stream_unique")]

    def __str__(self) -> str:
        return f"{self.scanner_key} on {self.tag_id}: scan {self.scan_id}"


class FindingWitness(models.Model):
    """A scanner that has reported a finding in its tag stream, and what its newest
    scan says: a finding is fixed only when no witness's newest scan still lists it."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="witnesses")
    scanner_key = models.CharField(max_length=120)
    scanner = models.CharField(max_length=100, blank=True, help_text="As its newest report says.")
    first_scan = models.ForeignKey(Scan, on_delete=models.SET_NULL, null=True, related_name="+")
    last_scan = models.ForeignKey(
        Scan,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        help_text="Newest listing it as of its last change of presence; while present, the "
        "scanner's stream head (ScannerStream) is.",
    )
    present = models.BooleanField(
        default=True, help_text="This scanner's newest scan of the tag lists the finding."
    )
    absent_since_scan = models.ForeignKey(
        Scan,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="This scanner's scan that no longer listed it.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["finding", "scanner_key"], name="witness_unique")
        ]
        indexes = [
            models.Index(fields=["scanner_key", "present"], name="witness_scanner_idx"),
        ]

    def __str__(self) -> str:
        state = "lists" if self.present else "no longer lists"
        return f"{self.scanner_key} {state} finding {self.finding_id}"

    @property
    def listed_last_scan_id(self) -> int | None:
        """The newest scan that listed the finding: while present, the scanner's stream
        head (annotated by ``findings.selectors.seen.witnesses_live``)."""
        head = getattr(self, "head_scan_id", None)
        return head if self.present and head else self.last_scan_id

    @property
    def listed_last_at(self):  # -> datetime | None
        head = getattr(self, "head_scanned_at", None)
        if self.present and head:
            return head
        return self.last_scan.scanned_at if self.last_scan_id else None


class ThreatIntel(models.Model):
    """What the world knows about a vulnerability's exploitation: FIRST's EPSS score and
    CISA's Known Exploited Vulnerabilities catalogue, imported by ``threat_intel_import``.

    Keyed by the vulnerability id, with no foreign-key constraint: a catalogue names many
    CVEs no scan has reported yet, and a later finding of one joins its row at once
    (``Finding.objects.filter(vulnerability__intel__kev=True)``).
    """

    vulnerability = models.OneToOneField(
        Vulnerability,
        primary_key=True,
        db_constraint=False,
        on_delete=models.DO_NOTHING,
        related_name="intel",
    )
    epss_score = models.FloatField(
        null=True, blank=True, help_text="Probability of exploitation in the next 30 days."
    )
    epss_percentile = models.FloatField(null=True, blank=True)
    epss_date = models.DateField(null=True, blank=True, help_text="The EPSS model's score date.")
    kev = models.BooleanField(default=False, help_text="Listed in CISA's KEV catalogue.")
    kev_date_added = models.DateField(null=True, blank=True)
    kev_due_date = models.DateField(null=True, blank=True)
    kev_ransomware = models.CharField(
        max_length=20, blank=True, help_text='knownRansomwareCampaignUse: "Known" or "Unknown".'
    )
    kev_name = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "threat intelligence"
        verbose_name_plural = "threat intelligence"
        indexes = [
            models.Index(fields=["kev"], name="intel_kev_idx", condition=Q(kev=True)),
            models.Index(fields=["-epss_score"], name="intel_epss_idx"),
        ]

    def __str__(self) -> str:
        return f"intel for {self.vulnerability_id}"


class ThreatIntelFeed(models.Model):
    """The snapshot of one feed (EPSS or KEV) now in ThreatIntel, and the last import
    that was refused: what the pages show as the freshness of exploit data, and what a
    new snapshot is compared with (an older release is stale, a much smaller one shrunk).
    """

    class Feed(models.TextChoices):
        EPSS = "epss", "EPSS"
        KEV = "kev", "KEV"

    feed = models.CharField(max_length=10, primary_key=True, choices=Feed.choices)
    version = models.CharField(
        max_length=60, blank=True, help_text="KEV catalogVersion / EPSS model and score date."
    )
    released_at = models.DateTimeField(
        null=True, blank=True, help_text="KEV dateReleased / EPSS score_date of the snapshot."
    )
    rows = models.PositiveIntegerField(default=0, help_text="CVEs in the snapshot.")
    imported_at = models.DateTimeField(null=True, blank=True)
    refused_at = models.DateTimeField(null=True, blank=True)
    refused_reason = models.CharField(max_length=20, blank=True)
    refused_detail = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = "threat intelligence feed"

    def __str__(self) -> str:
        return f"{self.feed} {self.version}"


class RunningImage(models.Model):
    """Inventory: one container of one workload seen running an image digest.

    Recorded from admission reviews, Trivy Kubernetes / Trivy Operator reports and
    inventory pushes (``kubectl get pods -A -o json``); ``last_seen`` moves each time
    the same container is seen again, and entries not seen for ``INVENTORY_STALE_DAYS``
    are expired.
    """

    class Source(models.TextChoices):
        ADMISSION = "admission"
        REPORT = "report"
        INVENTORY = "inventory"

    cluster = models.CharField(max_length=200, blank=True)
    namespace = models.CharField(max_length=253)
    kind = models.CharField(max_length=64, help_text="Pod, Deployment, StatefulSet, ...")
    name = models.CharField(max_length=253)
    container = models.CharField(max_length=253)
    image_ref = models.CharField(
        max_length=1000, help_text="The reference as the pod spec names it."
    )
    repository = models.ForeignKey(
        Repository, null=True, blank=True, on_delete=models.CASCADE, related_name="running"
    )
    digest = models.CharField(max_length=200, blank=True, help_text="sha256:…, when known.")
    image = models.ForeignKey(
        Image, null=True, blank=True, on_delete=models.SET_NULL, related_name="running"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    labels = models.JSONField(
        null=True, blank=True, help_text="The workload's Kubernetes labels, when seen."
    )
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "namespace", "kind", "name", "container"],
                name="running_image_unique",
            )
        ]
        indexes = [
            models.Index(fields=["image", "-last_seen"], name="running_image_idx"),
            models.Index(fields=["repository", "digest"], name="running_repo_digest_idx"),
            models.Index(fields=["-last_seen"], name="running_last_seen_idx"),
        ]

    def __str__(self) -> str:
        where = "/".join(part for part in (self.cluster, self.namespace) if part)
        return f"{where} {self.kind}/{self.name}[{self.container}] runs {self.image_ref}"


# The VEX rows of this app live in their own module (findings/vex/models.py).
from .vex.models import VexAlias, VexImport, VexStatement  # noqa: E402, F401
