"""Which addresses discovery must never probe: those on the objection list.

With a workspace, its list (`prospects.services.objecting_emails`). Without one
(`verify_emails` run without `--workspace`, `verify_address` called without a workspace), every
workspace's list: an address any workspace was asked never to contact is not probed.
Objections fail closed; a missing workspace never means "no list".
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from prospects import services as prospect_services
from prospects.models import SuppressionEntry, Workspace


def objecting_emails(workspace_id: int | None, emails: Iterable[str]) -> set[str]:
    """The normalised addresses among `emails` on the workspace's objection list, or on any
    workspace's when `workspace_id` is None."""
    if workspace_id is not None:
        return prospect_services.objecting_emails(workspace_id, emails)
    by_hash = {
        key_hash: email
        for email in emails
        if email
        for _kind, key_hash in prospect_services.objection_hashes(email=email)
    }
    if not by_hash:
        return set()
    # Every workspace by its id (a subquery of the same statement): the list's index starts
    # with the workspace. Raw SQL: it runs for each person checked, and composing it through
    # the ORM cost more than running it. Only table and column names are spliced in.
    entries, workspaces = SuppressionEntry._meta, Workspace._meta
    quote = connection.ops.quote_name
    column = {
        name: quote(entries.get_field(name).column) for name in ("workspace", "kind", "key_hash")
    }
    hashes = sorted(by_hash)
    sql = (
        f"SELECT {column['key_hash']} FROM {quote(entries.db_table)} "  # noqa: S608
        f"WHERE {column['workspace']} IN (SELECT {quote(workspaces.pk.column)} "
        f"FROM {quote(workspaces.db_table)}) AND {column['kind']} = %s "
        f"AND {column['key_hash']} IN ({', '.join(['%s'] * len(hashes))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [SuppressionEntry.Kind.EMAIL.value, *hashes])
        found = [row[0] for row in cursor.fetchall()]
    return {by_hash[key_hash] for key_hash in found}


def none_listed(workspace_id: int | None) -> bool:
    """Is the objection list empty of addresses (without a workspace, every workspace's)? A
    batch of people then needs no look-up each."""
    if workspace_id is None:
        entries = SuppressionEntry.objects.unscoped()  # every workspace's list: fail closed
    else:
        entries = SuppressionEntry.objects.for_workspace(workspace_id)
    return not entries.filter(kind=SuppressionEntry.Kind.EMAIL).exists()
