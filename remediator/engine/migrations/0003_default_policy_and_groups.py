"""The default policy and the two groups people are put in.

Default policy: critical or high with a fix -> rebuild, approval required;
critical without a fix -> notify.

Groups: "Security approvers" may approve/reject actions and request rebuilds
by hand; "Viewer" may only look.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

DEFAULT_POLICIES = [
    {
        "name": "rebuild-fixable-critical-high",
        "order": 10,
        "description": "Critical or high findings with a fix: rebuild the image, after approval.",
        "min_severity": "high",
        "fix_available": True,
        "action": "rebuild",
        "requires_approval": True,
    },
    {
        "name": "notify-unfixable-critical",
        "order": 20,
        "description": "Critical findings without a fix: tell people.",
        "min_severity": "critical",
        "fix_available": False,
        "action": "notify",
        "requires_approval": False,
    },
]

VIEW_MODELS = {
    "remediator": ["policy", "buildtarget", "remediationaction", "approval", "auditevent"],
    "findings": ["repository", "image", "tag", "delivery", "scan", "vulnerability", "finding"],
}
APPROVER_EXTRA = [("remediator", "approve_action"), ("remediator", "add_remediationaction")]


def _ensure_permissions(apps):
    """Permissions are normally created after migrate; the groups need them now."""
    for app_config in apps.get_app_configs():
        original = getattr(app_config, "models_module", None)  # historical apps: unset
        app_config.models_module = original or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = original


def forwards(apps, schema_editor):
    Policy = apps.get_model("remediator", "Policy")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for policy in DEFAULT_POLICIES:
        Policy.objects.get_or_create(name=policy["name"], defaults=policy)

    _ensure_permissions(apps)
    view = []
    for app_label, models in VIEW_MODELS.items():
        view += list(
            Permission.objects.filter(
                content_type__app_label=app_label,
                codename__in=[f"view_{m}" for m in models],
            )
        )
    extra = [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in APPROVER_EXTRA
    ]
    viewer, _ = Group.objects.get_or_create(name="Viewer")
    viewer.permissions.add(*view)
    approvers, _ = Group.objects.get_or_create(name="Security approvers")
    approvers.permissions.add(*view, *extra)


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["Viewer", "Security approvers"]
    ).delete()
    apps.get_model("remediator", "Policy").objects.filter(
        name__in=[p["name"] for p in DEFAULT_POLICIES], actions__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("remediator", "0002_action_verify_rescan"),
        ("findings", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
