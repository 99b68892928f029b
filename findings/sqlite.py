"""Let Django use the real variable limit of the linked SQLite library.

Django 5.2 assumes SQLite's old compile-time default of 999 variables per
statement and so splits a bulk insert of a few hundred findings into many
statements. SQLite >= 3.32 allows 32,766; we tell Django the real number so
that a report is written with a constant number of statements.
"""

import sqlite3

from django.db.backends.signals import connection_created
from django.dispatch import receiver


@receiver(connection_created)
def use_real_sqlite_variable_limit(sender, connection, **kwargs) -> None:
    if connection.vendor != "sqlite":
        return
    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    connection.features.max_query_params = limit
