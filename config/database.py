"""Database connection tuning that the settings file cannot express."""

import sqlite3

from django.db.backends.signals import connection_created


def use_the_sqlite_parameter_limit(sender, connection, **kwargs) -> None:
    """Let bulk writes use the SQLite build's own limit of parameters per statement.

    Django assumes 999, the default of SQLite builds before 3.32 (today's allow 32,766 or
    more): at 999 a bulk write of a 250-prospect batch's provenance took a dozen INSERTs, so
    the number of statements grew with the batch.
    """
    if connection.vendor == "sqlite":
        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        connection.features.max_query_params = limit


connection_created.connect(use_the_sqlite_parameter_limit, dispatch_uid="sqlite-parameter-limit")
