"""Image.running_last_seen from the inventory rows already stored (the inventory keeps
it from now on): the newest sighting of each image still in RunningImage."""

from django.db import migrations
from django.db.models import Max, OuterRef, Subquery


def backfill(apps, schema_editor):
    Image = apps.get_model("findings", "Image")
    RunningImage = apps.get_model("findings", "RunningImage")
    newest = (
        RunningImage.objects.filter(image=OuterRef("pk"))
        .order_by()
        .values("image")
        .annotate(at=Max("last_seen"))
        .values("at")
    )
    Image.objects.filter(running__isnull=False, running_last_seen__isnull=True).update(
        running_last_seen=Subquery(newest)
    )


class Migration(migrations.Migration):
    dependencies = [("findings", "0018_ownership_and_deadlines")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
