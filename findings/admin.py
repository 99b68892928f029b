from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from .models import (
    Delivery,
    Finding,
    Image,
    Repository,
    Scan,
    Tag,
    VexImport,
    VexStatement,
    Vulnerability,
)
from .paginator import CappedCountPaginator

RAW_BODY_DISPLAY_LIMIT = 256 * 1024


class FastAdmin(admin.ModelAdmin):
    """Lists that stay fast on tables with millions of rows: no full COUNT."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50


@admin.register(Repository)
class RepositoryAdmin(FastAdmin):
    list_display = ["__str__", "registry", "name", "created_at"]
    list_filter = ["registry"]
    search_fields = ["name", "registry"]


@admin.register(Image)
class ImageAdmin(FastAdmin):
    list_display = ["repository", "digest", "first_seen"]
    search_fields = ["digest", "repository__name"]
    raw_id_fields = ["repository"]
    list_select_related = ["repository"]


@admin.register(Tag)
class TagAdmin(FastAdmin):
    list_display = ["repository", "name", "image", "latest_scanned_at"]
    search_fields = ["name", "repository__name"]
    raw_id_fields = ["repository", "image", "latest_scan"]
    list_select_related = ["repository", "image"]


@admin.register(Delivery)
class DeliveryAdmin(FastAdmin):
    list_display = ["id", "source", "channel", "status", "size", "received_at", "error_short"]
    list_filter = ["status", "source", "channel"]
    search_fields = ["sha256", "external_id", "image_hint"]
    date_hierarchy = "received_at"
    exclude = ["body_gz"]
    readonly_fields = [
        "source",
        "external_id",
        "sha256",
        "size",
        "content_type",
        "headers",
        "image_hint",
        "channel",
        "status",
        "error",
        "attempts",
        "received_at",
        "processed_at",
        "raw_body",
    ]

    @admin.display(description="error")
    def error_short(self, obj: Delivery) -> str:
        return obj.error[:80]

    @admin.display(description="raw body")
    def raw_body(self, obj: Delivery) -> str:
        body = obj.body
        shown = body[:RAW_BODY_DISPLAY_LIMIT].decode("utf-8", errors="replace")
        more = len(body) - RAW_BODY_DISPLAY_LIMIT
        note = f"\n… {more} more bytes" if more > 0 else ""
        return format_html('<pre style="white-space: pre-wrap">{}{}</pre>', shown, note)


@admin.register(Scan)
class ScanAdmin(FastAdmin):
    list_display = ["id", "tag", "image", "source", "scanner", "scanned_at", "findings_count"]
    list_filter = [
        "source",
        "superseded",
        "scanner_key",
        ("reported_scanned_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["tag__repository__name", "image__digest", "scanner_scan_id"]
    raw_id_fields = ["delivery", "image", "tag"]
    list_select_related = ["tag__repository", "image__repository"]
    date_hierarchy = "scanned_at"


@admin.register(Vulnerability)
class VulnerabilityAdmin(FastAdmin):
    list_display = ["id", "severity", "cvss_score", "title", "published_at"]
    list_filter = ["severity"]
    search_fields = ["id", "title"]


@admin.register(Finding)
class FindingAdmin(FastAdmin):
    list_display = [
        "vulnerability",
        "severity",
        "package",
        "installed_version",
        "fixed_version",
        "status",
        "tag",
        "last_seen",
    ]
    list_filter = ["status", "severity", "fixable", "package_type"]
    search_fields = ["vulnerability__id", "package"]
    raw_id_fields = [
        "repository",
        "tag",
        "vulnerability",
        "first_scan",
        "last_scan",
        "fixed_by_scan",
    ]
    list_select_related = ["tag__repository"]


class VexStatementInline(admin.TabularInline):
    model = VexStatement
    fields = ["vulnerability_id", "status", "justification", "impact", "products"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False


@admin.register(VexImport)
class VexImportAdmin(FastAdmin):
    """Vendors' VEX documents as imported: read only (they are written by the intake)."""

    list_display = ["id", "format", "document_id", "version", "author", "issued_at"]
    list_display += ["statement_count", "superseded_by", "imported_at"]
    list_filter = ["format", ("superseded_by", admin.EmptyFieldListFilter)]
    search_fields = ["document_id", "author"]
    raw_id_fields = ["delivery", "superseded_by"]
    inlines = [VexStatementInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
