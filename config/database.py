"""Database connection tuning that the settings file cannot express."""

import sqlite3

from django.db.backends.signals import connection_created

# SQLite compiles a statement into a program that grows with its parameters, and Python's
# sqlite3 keeps the last 128 programs of each connection: past a few thousand parameters a
# statement costs memory (a 2,500-row INSERT, 30,000 parameters, added 40 MB to the Dropcontact
# benchmark's peak) and no more speed.
SQLITE_MAX_PARAMETERS = 8192


def use_the_sqlite_parameter_limit(sender, connection, **kwargs) -> None:
    """Let bulk writes carry up to 8,192 parameters a statement on SQLite.

    Django assumes 999, the default of SQLite builds before 3.32 (today's allow 32,766 or
    more): at 999 the provenance of a 250-prospect Dropcontact batch took thirty INSERTs.
    """
    if connection.vendor == "sqlite":
        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        connection.features.max_query_params = min(limit, SQLITE_MAX_PARAMETERS)


connection_created.connect(use_the_sqlite_parameter_limit, dispatch_uid="sqlite-parameter-limit")
