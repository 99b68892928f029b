"""``manage.py demo``: fill the database with a living month of scans and actions.

Built from the sample reports in tests/fixtures through the real ingestion
services; see _demo_scans.py and _demo_actions.py. Refuses to touch a
database that already holds scans unless ``--reset`` is given.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from findings.models import (
    Delivery,
    Finding,
    Image,
    Repository,
    RunningImage,
    Scan,
    Tag,
    Vulnerability,
)
from findings.selectors.overview import overview_refresh
from findings.selectors.remediation import remediation_report
from findings.signals import scan_ingested
from remediator.engine.models import Approval, AuditEvent, RemediationAction
from remediator.engine.services.threat_intel import threat_intel_import

from ._demo_actions import create_demo_actions
from ._demo_inventory import create_demo_inventory
from ._demo_scans import FIXTURES, demo_images, ingest_demo_scans
from ._demo_teams import create_demo_teams

PASSWORD = "demo"
VIEW_MODELS = {
    "remediator": ["policy", "buildtarget", "remediationaction", "approval", "auditevent"],
    "findings": ["repository", "image", "tag", "delivery", "scan", "vulnerability", "finding"],
}
USERS = {"alice": "Security approvers", "bob": "Security approvers", "victor": "Viewer"}


def ensure_groups() -> dict[str, Group]:
    """The Viewer and Security approvers groups (the engine's migration makes them too)."""
    view = Permission.objects.filter(
        content_type__app_label__in=VIEW_MODELS,
        codename__in=[f"view_{m}" for models in VIEW_MODELS.values() for m in models],
    )
    extra = Permission.objects.filter(
        content_type__app_label="remediator",
        codename__in=["approve_action", "add_remediationaction"],
    )
    viewer, _ = Group.objects.get_or_create(name="Viewer")
    viewer.permissions.add(*view)
    approvers, _ = Group.objects.get_or_create(name="Security approvers")
    approvers.permissions.add(*view, *extra)
    return {"Viewer": viewer, "Security approvers": approvers}


def ensure_users() -> dict:
    User = get_user_model()
    groups = ensure_groups()
    users = {}
    for name, group in USERS.items():
        user, _ = User.objects.get_or_create(username=name, defaults={"email": f"{name}@acme.test"})
        user.set_password(PASSWORD)
        user.save()
        user.groups.add(groups[group])
        users[name] = user
    admin = User.objects.filter(username="admin").first()
    if admin is None:
        admin = User.objects.create_superuser("admin", "admin@acme.test", PASSWORD)
        users["admin_created"] = True
    users["admin"] = admin
    return users


@contextmanager
def engine_quiet():
    """Replayed history must not make the engine propose actions for old scans."""
    receivers = scan_ingested.receivers
    scan_ingested.receivers = []
    scan_ingested.sender_receivers_cache.clear()
    try:
        yield
    finally:
        scan_ingested.receivers = receivers
        scan_ingested.sender_receivers_cache.clear()


def reset_data() -> None:
    """Delete scans, findings, deliveries and actions (keeps users, policies, targets)."""
    Approval.objects.all().delete()
    AuditEvent.objects.all()._raw_delete(AuditEvent.objects.db)
    RemediationAction.objects.all().delete()
    Finding.objects.all().delete()
    RunningImage.objects.all().delete()
    Tag.objects.update(latest_scan=None)
    Scan.objects.all().delete()
    Tag.objects.all().delete()
    Image.objects.all().delete()
    Delivery.objects.all().delete()
    Repository.objects.all().delete()
    Vulnerability.objects.filter(findings__isnull=True).delete()


def mttr_line() -> str:
    """The demo's time to remediate, both ways (the Reports page has the rest)."""
    overall = remediation_report().overall

    def days(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    fix, gone = overall.to_fix, overall.to_not_running
    return (
        f"Fixed in the last 90 days: {overall.fixed}; median / p90 days to the verified fix "
        f"{days(fix.median_days)} / {days(fix.p90_days)}, to no longer running "
        f"{days(gone.median_days)} / {days(gone.p90_days)} ({gone.count} measured, "
        f"{overall.still_running} still running after the fix)."
    )


class Command(BaseCommand):
    help = "Fill the database with demo scans, findings, actions and users (password 'demo')."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Delete existing scan data first.")
        parser.add_argument("--images", type=int, default=36, help="How many images (default 36).")

    def handle(self, *args, reset: bool, images: int, **options):
        if Delivery.objects.exists() or RemediationAction.objects.exists():
            if not reset:
                raise CommandError(
                    "The database already holds deliveries or actions; "
                    "replace them with demo data with `make demo DEMO_ARGS=--reset` "
                    "(or `manage.py demo --reset`), or use another DATA_DIR."
                )
            self.stdout.write("Resetting scan data…")
            with transaction.atomic():
                reset_data()
        users = ensure_users()
        self.stdout.write(f"Ingesting demo scans for {images} images…")
        with engine_quiet():
            counts = ingest_demo_scans(demo_images(images))
        with transaction.atomic():
            actions = create_demo_actions(users=users)
            running = create_demo_inventory()
        # Exploit intelligence from the real excerpts in tests/fixtures/threat_intel/ (through
        # the real importer): CVE-2020-15999 is in CISA's KEV, CVE-2014-0054 has EPSS 0.91.
        intel = FIXTURES / "threat_intel"
        threat_intel_import(
            epss=str(intel / "epss_scores_excerpt.csv"),
            kev=str(intel / "known_exploited_vulnerabilities_excerpt.json"),
        )
        with transaction.atomic():
            create_demo_teams()  # after the KEV import: its due dates cap the deadlines
        overview_refresh()  # the overview shows the demo data at once, not earlier figures
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {counts['scans']} scans, {counts['rejected']} rejected deliveries, "
                f"{Finding.objects.count()} findings, {actions} actions, "
                f"{running} running containers."
            )
        )
        self.stdout.write(mttr_line())
        self.stdout.write("Sign in at /login/ with one of (password 'demo'):")
        self.stdout.write("  alice, bob  Security approvers (approve, reject, request rebuilds)")
        self.stdout.write("  victor      Viewer (sees everything, changes nothing)")
        if users.get("admin_created"):
            self.stdout.write("  admin       superuser (created now)")
        else:
            self.stdout.write("  admin       superuser (existing; its password is unchanged)")
