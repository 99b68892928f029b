"""Links stored before they were checked: a fix pull request's ``url`` or a CI run's
``external_url`` that is not an http(s) link becomes '' (the page then shows the number
without a link). New ones are checked when stored (``integrations/links.py``)."""

from django.db import migrations
from django.db.models import Q


def _unsafe(field: str) -> Q:
    return ~(Q(**{f"{field}__istartswith": "https://"}) | Q(**{f"{field}__istartswith": "http://"}))


def blank_unsafe_links(apps, schema_editor):
    fix = apps.get_model("remediator", "FixPullRequest")
    action = apps.get_model("remediator", "RemediationAction")
    fix.objects.exclude(url="").filter(_unsafe("url")).update(url="")
    action.objects.exclude(external_url="").filter(_unsafe("external_url")).update(external_url="")


class Migration(migrations.Migration):
    dependencies = [("remediator", "0007_admission_policies")]

    operations = [migrations.RunPython(blank_unsafe_links, migrations.RunPython.noop)]
