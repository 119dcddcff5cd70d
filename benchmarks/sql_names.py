"""What the benchmarks call a SQL statement when they count them: its verb and first table."""

from __future__ import annotations

import re

TABLE = re.compile(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)


def statement_name(sql: str) -> str:
    """'SELECT enrichment_emailprobe', 'UPDATE prospects_prospect', 'BEGIN -'."""
    match = TABLE.search(sql)
    verb = sql.lstrip().split(None, 1)[0].upper()
    return f"{verb} {match.group(1) if match else '-'}"
