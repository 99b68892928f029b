from django.apps import AppConfig


class ClusterConfig(AppConfig):
    """An app for its task (Celery finds it in ``tasks.py``), its command
    (``manage.py inventory_import``) and the admin of the inventory; it has no models of
    its own."""

    name = "remediator.cluster"
    label = "cluster"
    verbose_name = "Cluster inventory"
