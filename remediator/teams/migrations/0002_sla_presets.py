from django.db import migrations

PRESETS = [
    # (name, preset, description, default)
    ("fedramp", "fedramp", "FedRAMP: critical and high 30 days, moderate 90, low 180.", True),
    ("pci-dss-4", "pci-dss-4", "PCI DSS 4.0 6.3.3: critical and high within a month.", False),
    ("cisa-bod-22-01", "cisa-bod-22-01", "CISA BOD 22-01: KEV entries by their due date.", False),
]


def add_presets(apps, schema_editor):
    """One policy per preset, FedRAMP the default: every open finding has a deadline."""
    policies = apps.get_model("teams", "SlaPolicy")
    for name, preset, description, default in PRESETS:
        policies.objects.get_or_create(
            name=name,
            defaults={"preset": preset, "description": description, "is_default": default},
        )


class Migration(migrations.Migration):
    dependencies = [("teams", "0001_initial")]
    operations = [migrations.RunPython(add_presets, migrations.RunPython.noop)]
