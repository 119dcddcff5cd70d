"""Which addresses discovery must never probe: those on the objection list.

With a workspace, its list (`prospects.services.objecting_emails`). Without one
(`verify_emails` run without `--workspace`, `verify_address` called without a workspace), every
workspace's list: an address any workspace was asked never to contact is not probed.
Objections fail closed; a missing workspace never means "no list".
"""

from __future__ import annotations

from collections.abc import Iterable

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
    # with the workspace.
    workspaces = Workspace.objects.order_by().values("pk")
    found = (
        SuppressionEntry.objects.unscoped()
        .filter(
            workspace_id__in=workspaces,
            kind=SuppressionEntry.Kind.EMAIL,
            key_hash__in=sorted(by_hash),
        )
        .values_list("key_hash", flat=True)
    )
    return {by_hash[key_hash] for key_hash in found}
