"""Output shapes of the read API (read-only serializers over annotated querysets)."""

from __future__ import annotations

from django.conf import settings
from django.utils.timezone import now
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from findings.deadline import SLA_STATES, Deadline, deadline_of
from findings.models import (
    Delivery,
    Finding,
    FindingWitness,
    Repository,
    Scan,
    Tag,
    Vulnerability,
)
from findings.selectors.threat_intel import intel_of
from remediator.core.severity import SEVERITIES
from remediator.intake.recognise import delivery_credential


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="A short code, e.g. 'unauthorized', 'too_large'.")
    detail = serializers.CharField(help_text="What was wrong.")


class WebhookAnswerSerializer(serializers.Serializer):
    delivery = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Delivery.Status.choices)
    url = serializers.CharField()
    duplicate = serializers.BooleanField(required=False)
    detail = serializers.CharField(required=False, help_text="Why it was ignored or rejected.")


def image_name(repository: Repository, tag: str = "") -> str:
    text = f"{repository.registry}/{repository.name}"
    return f"{text}:{tag}" if tag else text


class TagSerializer(serializers.ModelSerializer):
    digest = serializers.CharField(source="image.digest", help_text="The digest it points at now.")

    class Meta:
        model = Tag
        fields = ["name", "digest", "latest_scan", "latest_scanned_at"]


class SeverityCountsSerializer(serializers.Serializer):
    critical = serializers.IntegerField()
    high = serializers.IntegerField()
    medium = serializers.IntegerField()
    low = serializers.IntegerField()
    negligible = serializers.IntegerField()
    unknown = serializers.IntegerField()
    total = serializers.IntegerField()


class LastScanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    scanned_at = serializers.DateTimeField()


OWNER_HELP = "The owning team's slug; null: unowned"


class ImageSerializer(serializers.ModelSerializer):
    """An image repository (registry + name), its tags, and what is open in it."""

    image = serializers.SerializerMethodField()
    tags = TagSerializer(many=True, read_only=True)
    open_findings = serializers.SerializerMethodField()
    last_scan = serializers.SerializerMethodField()
    owner = serializers.CharField(
        source="owner.slug", default=None, allow_null=True, help_text=OWNER_HELP
    )
    owner_reason = serializers.CharField(
        read_only=True, help_text="Which ownership rule matched, and on what; empty: unowned"
    )

    class Meta:
        model = Repository
        fields = [
            "id", "registry", "name", "image", "owner", "owner_reason", "tags", "open_findings",
            "last_scan",
        ]  # fmt: skip

    def get_image(self, obj: Repository) -> str:
        return image_name(obj)

    @extend_schema_field(SeverityCountsSerializer)
    def get_open_findings(self, obj: Repository) -> dict:
        counts = {s: getattr(obj, f"open_{s}", 0) or 0 for s in SEVERITIES}
        return {**counts, "total": sum(counts.values())}

    @extend_schema_field(LastScanSerializer(allow_null=True))
    def get_last_scan(self, obj: Repository) -> dict | None:
        if not getattr(obj, "last_scan_id", None):
            return None
        return {"id": obj.last_scan_id, "scanned_at": obj.last_scanned_at}


class ScanSerializer(serializers.ModelSerializer):
    image = serializers.SerializerMethodField()
    repository = serializers.IntegerField(source="image.repository_id")
    tag = serializers.CharField(source="tag.name")
    digest = serializers.CharField(source="image.digest")
    findings_url = serializers.SerializerMethodField()

    class Meta:
        model = Scan
        fields = [
            "id", "delivery", "source", "image", "repository", "tag", "digest", "scanner",
            "scanner_key", "scanner_scan_id", "os", "scanned_at", "reported_scanned_at",
            "received_at", "findings_count", "refused", "severity_counts", "superseded",
            "failure", "part", "workloads", "findings_url",
        ]  # fmt: skip

    def get_image(self, obj: Scan) -> str:
        return image_name(obj.tag.repository, obj.tag.name)

    def get_findings_url(self, obj: Scan) -> str:
        return f"/api/v1/findings/?scan={obj.pk}"


class ExploitSerializer(serializers.Serializer):
    """What FIRST's EPSS and CISA's KEV catalogue say about the vulnerability (null: nothing)."""

    epss_score = serializers.FloatField(allow_null=True, help_text="Probability, 0..1.")
    epss_percentile = serializers.FloatField(allow_null=True)
    epss_date = serializers.DateField(allow_null=True)
    kev = serializers.BooleanField(help_text="Listed in CISA's KEV catalogue.")
    kev_date_added = serializers.DateField(allow_null=True)
    kev_due_date = serializers.DateField(allow_null=True)
    kev_ransomware = serializers.CharField(help_text='"Known", "Unknown" or "".')


class FindingSerializer(serializers.ModelSerializer):
    image = serializers.SerializerMethodField()
    tag = serializers.CharField(source="tag.name")
    title = serializers.CharField(source="vulnerability.title")
    last_seen = serializers.DateTimeField(source="seen_at", read_only=True)
    exploit = serializers.SerializerMethodField()
    sla_state = serializers.SerializerMethodField()
    days_left = serializers.SerializerMethodField()
    overdue_days = serializers.SerializerMethodField()
    closed_in_time = serializers.SerializerMethodField()
    owner = serializers.CharField(
        source="repository.owner.slug", default=None, allow_null=True, help_text=OWNER_HELP
    )

    class Meta:
        model = Finding
        fields = [
            "id", "vulnerability_id", "title", "severity", "cvss_score", "package",
            "package_type", "installed_version", "fixed_version", "fixable", "status",
            "status_reason", "accepted_until", "vendor_status", "image", "repository", "owner",
            "tag", "first_seen", "last_seen", "fixed_at", "fixed_by_scan", "locations", "exploit",
            "due_at", "sla_state", "days_left", "overdue_days", "closed_in_time",
            "vex_justification", "decided_at", "investigating_since",
        ]  # fmt: skip

    def get_image(self, obj: Finding) -> str:
        return image_name(obj.repository, obj.tag.name)

    def _deadline(self, obj: Finding) -> Deadline:
        cached = getattr(obj, "_deadline", None)
        if cached is None:
            cached = obj._deadline = deadline_of(obj, now=self.context.setdefault("now", now()))
        return cached

    @extend_schema_field(serializers.ChoiceField(choices=SLA_STATES))
    def get_sla_state(self, obj: Finding) -> str:
        return self._deadline(obj).state

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_days_left(self, obj: Finding) -> int | None:
        """Whole days to the deadline of an open finding (negative: overdue)."""
        return self._deadline(obj).days_left

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_overdue_days(self, obj: Finding) -> int | None:
        return self._deadline(obj).overdue_days

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_closed_in_time(self, obj: Finding) -> bool | None:
        """A fixed finding with a deadline: fixed by it."""
        return self._deadline(obj).closed_in_time

    @extend_schema_field(ExploitSerializer(allow_null=True))
    def get_exploit(self, obj: Finding) -> dict | None:
        intel = intel_of(obj.vulnerability)
        return None if intel is None else ExploitSerializer(intel).data


class WitnessSerializer(serializers.ModelSerializer):
    last_scan = serializers.IntegerField(source="listed_last_scan_id", read_only=True)

    class Meta:
        model = FindingWitness
        fields = [
            "scanner_key",
            "scanner",
            "first_scan",
            "last_scan",
            "present",
            "absent_since_scan",
        ]


class FindingDetailSerializer(FindingSerializer):
    """One finding with its evidence: each witness, and the scan that proved the fix."""

    witnesses = WitnessSerializer(many=True, read_only=True)

    class Meta(FindingSerializer.Meta):
        fields = [*FindingSerializer.Meta.fields, "witnesses"]


class VulnerabilitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Vulnerability
        fields = [
            "id", "title", "severity", "cvss_score", "cvss_vector", "links", "published_at",
            "updated_at",
        ]  # fmt: skip


class AffectedImageSerializer(serializers.Serializer):
    repository = serializers.IntegerField()
    image = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    open_findings = serializers.IntegerField()
    findings = serializers.IntegerField()


class VulnerabilityDetailSerializer(VulnerabilitySerializer):
    affected_images = serializers.SerializerMethodField()

    class Meta(VulnerabilitySerializer.Meta):
        fields = [*VulnerabilitySerializer.Meta.fields, "description", "affected_images"]

    @extend_schema_field(AffectedImageSerializer(many=True))
    def get_affected_images(self, obj: Vulnerability) -> list[dict]:
        return self.context.get("affected_images", [])


class CredentialSerializer(serializers.Serializer):
    method = serializers.CharField(help_text="authorization, path, standard-webhooks, ...")
    setting = serializers.CharField(help_text="The setting whose secret it was ('': none).")
    accepted_at = serializers.CharField(help_text="The source whose webhook accepted it.")
    speaks_for = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="The report formats that secret speaks for (null: any); a report in another "
        "format is evidence of accepted_at only (witness auto:<format>:<scanner>).",
    )


class DeliverySerializer(serializers.ModelSerializer):
    scan = serializers.IntegerField(source="scan_pk", allow_null=True, read_only=True)
    url = serializers.SerializerMethodField()
    report_deliveries = serializers.SerializerMethodField()
    event_delivery = serializers.SerializerMethodField()
    refusals = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Why findings were refused (the first few), each value shown escaped.",
    )
    credential = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = [
            "id", "source", "channel", "status", "error", "scan", "external_id", "sha256",
            "size", "content_type", "image_hint", "attempts", "received_at", "enqueued_at",
            "processed_at", "refused", "refusals", "credential", "report_deliveries",
            "event_delivery", "url",
        ]  # fmt: skip

    @extend_schema_field(CredentialSerializer(allow_null=True))
    def get_credential(self, obj: Delivery) -> dict | None:
        """What the webhook accepted it with; null for the command line and Harbor's API."""
        return delivery_credential(obj)

    def get_url(self, obj: Delivery) -> str:
        return f"/api/v1/deliveries/{obj.pk}/"

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_report_deliveries(self, obj: Delivery) -> list[int]:
        """Harbor events: the deliveries holding the reports fetched from Harbor's API."""
        return list(obj.headers.get("report_deliveries", [])) if obj.headers else []

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_event_delivery(self, obj: Delivery) -> int | None:
        """Reports fetched from Harbor: the event delivery that asked for them."""
        return obj.headers.get("event_delivery") if obj.headers else None


class DeliveryScanSerializer(ScanSerializer):
    """A scan a delivery resulted in, as its detail lists it."""

    url = serializers.SerializerMethodField()

    class Meta(ScanSerializer.Meta):
        fields = [
            "id", "part", "image", "repository", "tag", "digest", "scanner_key",
            "findings_count", "refused", "failure", "url", "findings_url",
        ]  # fmt: skip

    def get_url(self, obj: Scan) -> str:
        return f"/api/v1/scans/{obj.pk}/"


STAFF_ONLY = ("headers", "body_preview", "body_truncated")
"""DeliveryDetail's fields that only staff receive; other readers get them left out."""


class DeliveryDetailSerializer(DeliverySerializer):
    """Every reader of deliveries: status, error, the scans it resulted in. The headers
    and the raw body only for staff (left out for the others), as on the delivery page."""

    scans = serializers.SerializerMethodField()
    witnesses = serializers.SerializerMethodField()
    headers = serializers.SerializerMethodField()
    body_preview = serializers.SerializerMethodField()
    body_truncated = serializers.SerializerMethodField()

    class Meta(DeliverySerializer.Meta):
        fields = [
            *DeliverySerializer.Meta.fields, "scans", "witnesses", "headers", "body_preview",
            "body_truncated",
        ]  # fmt: skip

    def _staff(self) -> bool:
        request = self.context.get("request")
        return bool(request and request.user.is_staff)

    def to_representation(self, instance: Delivery) -> dict:
        data = super().to_representation(instance)
        if not self._staff():
            for name in STAFF_ONLY:
                data.pop(name, None)
        return data

    @extend_schema_field(DeliveryScanSerializer(many=True))
    def get_scans(self, obj: Delivery) -> list[dict]:
        """The scans it resulted in (a Kubernetes report makes one per image), in order."""
        scans = sorted(obj.scans.all(), key=lambda scan: scan.part)
        return DeliveryScanSerializer(scans, many=True, context=self.context).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_witnesses(self, obj: Delivery) -> list[str]:
        """The witness key each of its scans wrote evidence as ("trivy:trivy",
        "auto:trivy:trivy"), in image order."""
        return [scan.scanner_key for scan in sorted(obj.scans.all(), key=lambda s: s.part)]

    # The three below: None for others, who get them left out (to_representation).
    @extend_schema_field(serializers.JSONField())
    def get_headers(self, obj: Delivery) -> dict | None:
        """The request headers kept with it (staff only)."""
        return obj.headers if self._staff() else None

    @extend_schema_field(serializers.CharField())
    def get_body_preview(self, obj: Delivery) -> str | None:
        """The first DELIVERY_BODY_PREVIEW_BYTES of the raw body, as text (staff only)."""
        if not self._staff():
            return None
        cap = settings.DELIVERY_BODY_PREVIEW_BYTES
        data = obj.body_head(cap)
        return data.decode("utf-8", errors="replace")

    @extend_schema_field(serializers.BooleanField())
    def get_body_truncated(self, obj: Delivery) -> bool | None:
        """Whether the body is longer than the preview (staff only)."""
        return obj.size > settings.DELIVERY_BODY_PREVIEW_BYTES if self._staff() else None
