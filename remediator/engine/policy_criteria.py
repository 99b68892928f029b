"""The criteria columns both kinds of policy store (remediation and admission)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from findings.models import Severity


class PolicyCriteria(models.Model):
    """The conditions a policy sets on findings, stored alike for every kind of policy:
    one column per field of the pure ``rules.criteria.Criteria`` (same names, same
    meaning). An empty condition always holds."""

    min_severity = models.CharField(
        max_length=12,
        choices=Severity.choices,
        default=Severity.UNKNOWN,
        help_text="Only findings at least this severe.",
    )
    fix_available = models.BooleanField(
        null=True, blank=True, help_text="Yes: only fixable; No: only unfixable; empty: either."
    )
    fix_grace_days = models.PositiveIntegerField(
        default=0,
        help_text="A fixable finding matches only once a fix has been known for this many "
        "days (0: at once); an unfixable one is not held back.",
    )
    include_wont_fix = models.BooleanField(
        default=False, help_text="Also match vendor status will_not_fix / end_of_life."
    )
    package_glob = models.CharField(
        max_length=200, blank=True, help_text="Glob over the package name, ignoring case."
    )
    image_glob = models.CharField(
        max_length=300,
        blank=True,
        help_text='Glob over "registry/repository", e.g. "registry.example.com/shop/*".',
    )
    vulnerability_ids = models.JSONField(
        default=list, blank=True, help_text='CVE / GHSA ids, e.g. ["CVE-2024-6119"].'
    )
    min_age_days = models.PositiveIntegerField(
        default=0, help_text="Only findings seen for at least this many days."
    )
    kev = models.BooleanField(
        default=False, help_text="Only vulnerabilities in CISA's Known Exploited catalogue."
    )
    min_epss = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Only vulnerabilities with an EPSS score at least this (0-1); empty: any.",
    )
    running = models.BooleanField(
        default=False,
        help_text="Only images that run: seen by the inventory recently (an image under "
        "admission review is about to run).",
    )
    namespace_glob = models.CharField(
        max_length=253,
        blank=True,
        help_text='Only images running in a namespace matching this glob, e.g. "prod-*" '
        "(where the inventory saw it; for admission, the namespace under review).",
    )

    vendor_not_affected = models.BooleanField(
        null=True,
        blank=True,
        help_text="No: only findings no trusted vendor's VEX statement marks not affected "
        "(VEX_TRUSTED_AUTHORS); Yes: only those one does; empty: either.",
    )

    class Meta:
        abstract = True
