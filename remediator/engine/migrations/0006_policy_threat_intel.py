import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("remediator", "0005_fix_pull_requests")]

    operations = [
        migrations.AddField(
            model_name="policy",
            name="kev",
            field=models.BooleanField(
                default=False,
                help_text="Only vulnerabilities in CISA's Known Exploited catalogue.",
            ),
        ),
        migrations.AddField(
            model_name="policy",
            name="min_epss",
            field=models.FloatField(
                blank=True,
                help_text="Only vulnerabilities with an EPSS score at least this (0-1); empty: any.",
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(0.0),
                    django.core.validators.MaxValueValidator(1.0),
                ],
            ),
        ),
        migrations.AddField(
            model_name="policy",
            name="running",
            field=models.BooleanField(
                default=False, help_text="Only images the inventory has seen running recently."
            ),
        ),
        migrations.AddField(
            model_name="policy",
            name="namespace_glob",
            field=models.CharField(
                blank=True,
                help_text='Only images running in a namespace matching this glob, e.g. "prod-*".',
                max_length=253,
            ),
        ),
    ]
