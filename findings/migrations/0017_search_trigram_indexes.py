"""The search box's substring matches (findings.selectors.search) on PostgreSQL: pg_trgm
GIN indexes on the expressions Django's ``icontains`` compares, ``UPPER(column::text)``,
so ``UPPER(package) LIKE UPPER('%ssl%')`` over a million findings is an index scan.

Only on PostgreSQL (SQLite has no GIN indexes; there the same queries scan the table,
bounded by their limits). Where the database user may not create the extension
(pg_trgm is a trusted extension from PostgreSQL 13, so a database owner may), the
indexes are left out with a warning: search still works, only slower. Not part of
the models' state: the model index API cannot say "PostgreSQL only".
"""

import logging

from django.db import DatabaseError, migrations, transaction

log = logging.getLogger(__name__)

INDEXES = {
    "finding_package_trgm_idx": ("findings_finding", "package"),
    "repository_name_trgm_idx": ("findings_repository", "name"),
    "vulnerability_id_trgm_idx": ("findings_vulnerability", "id"),
    "vulnerability_title_trgm_idx": ("findings_vulnerability", "title"),
    "tag_name_trgm_idx": ("findings_tag", "name"),
}


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        try:
            with transaction.atomic(using=schema_editor.connection.alias):  # a savepoint
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError as exc:
            log.warning("pg_trgm not available (%s): search runs without its indexes", exc)
            return
        for name, (table, column) in INDEXES.items():
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {quote(table)} "
                f"USING gin ((UPPER({quote(column)}::text)) gin_trgm_ops)"
            )


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    dependencies = [
        ("findings", "0016_package_index_ignores_case"),
    ]

    operations = [migrations.RunPython(create, drop)]
