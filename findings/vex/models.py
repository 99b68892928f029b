"""The stored VEX documents and their statements (rows of the ``findings`` app)."""

from __future__ import annotations

from django.db import models

from findings.parsers.vex import STATUSES

VexStatus = models.TextChoices("VexStatus", [(s.upper(), s) for s in STATUSES])
VexFormat = models.TextChoices(
    "VexFormat", [("OPENVEX", "openvex"), ("CSAF", "csaf"), ("CYCLONEDX", "cyclonedx")]
)


class VexImport(models.Model):
    """One VEX document received (a Delivery of source ``vex``), imported whole or not
    at all. A newer version of the same document id by the same author supersedes it:
    its statements no longer count (they stay, for the record)."""

    delivery = models.OneToOneField(
        "findings.Delivery", on_delete=models.PROTECT, related_name="vex_import"
    )
    format = models.CharField(max_length=12, choices=VexFormat.choices)
    spec_version = models.CharField(max_length=100, blank=True)
    document_id = models.CharField(max_length=500, blank=True)
    author = models.CharField(max_length=300, blank=True)
    issued_at = models.DateTimeField(
        null=True, blank=True, help_text="The document's own timestamp (release date)."
    )
    version = models.CharField(max_length=50, blank=True)
    link = models.CharField(
        max_length=500, blank=True, help_text="Where the document says it lives (https only)."
    )
    statement_count = models.PositiveIntegerField(default=0)
    superseded_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="A newer version of this document by the same author: this one's "
        "statements no longer count.",
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "VEX import"
        ordering = ["-id"]
        indexes = [models.Index(fields=["document_id", "author"], name="veximport_doc_idx")]

    def __str__(self) -> str:
        return f"{self.format} {self.document_id or self.pk} v{self.version} by {self.author}"

    @property
    def superseded(self) -> bool:
        return self.superseded_by_id is not None


class VexStatement(models.Model):
    """One statement of a VEX document: a vulnerability, a status and the products."""

    vex_import = models.ForeignKey(VexImport, on_delete=models.CASCADE, related_name="statements")
    vulnerability_id = models.CharField(max_length=100, db_index=True)
    aliases = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=VexStatus.choices)
    justification = models.CharField(
        max_length=60, blank=True, help_text="OpenVEX's justification, when one maps."
    )
    original_justification = models.CharField(
        max_length=100, blank=True, help_text="As the document wrote it."
    )
    impact = models.TextField(blank=True)
    action = models.TextField(blank=True)
    products = models.JSONField(
        default=list, blank=True, help_text='[{"id": purl or identifier, "subcomponents": [...]}]'
    )
    subcomponents = models.JSONField(default=list, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.vulnerability_id} {self.status}"


class VexAlias(models.Model):
    """Another id of a statement's vulnerability (a GHSA of a CVE): looked up as the
    vulnerability id is."""

    statement = models.ForeignKey(VexStatement, on_delete=models.CASCADE, related_name="+")
    vulnerability_id = models.CharField(max_length=100, db_index=True)

    def __str__(self) -> str:
        return self.vulnerability_id
