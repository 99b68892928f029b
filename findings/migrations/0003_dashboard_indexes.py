"""Indexes the dashboard's keyset lists need at scale (measured with bench/dashboard.py).

RunSQL, not AddIndex: the model's Meta belongs to the findings model owner; the
equivalent declaration is
``models.Index(fields=["-severity_rank", "-id"], name="finding_rank_id_idx")`` and
``models.Index(fields=["-severity_rank", "-id"], name="finding_active_rank_idx",
condition=Q(status__in=["open", "in_remediation"]))``.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("findings", "0002_delivery_enqueued_at")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS finding_rank_id_idx "
            "ON findings_finding (severity_rank DESC, id DESC)",
            "DROP INDEX IF EXISTS finding_rank_id_idx",
        ),
        # The default findings list: open or in remediation, worst first.
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS finding_active_rank_idx "
            "ON findings_finding (severity_rank DESC, id DESC) "
            "WHERE status IN ('open', 'in_remediation')",
            "DROP INDEX IF EXISTS finding_active_rank_idx",
        ),
    ]
