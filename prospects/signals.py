"""The hook other apps use to react to new prospects without `prospects` importing them.

`prospects_created` is sent after the creating transaction commits, with ids only:
`sender=Prospect, workspace_id=int, prospect_ids=list[int]`.
"""

from django.db import transaction
from django.dispatch import Signal

prospects_created = Signal()


def notify_prospects_created(workspace_id: int, prospect_ids: list[int]) -> None:
    """Send `prospects_created` once the current transaction commits (at once outside one)."""
    if not prospect_ids:
        return
    from .models import Prospect

    ids = list(prospect_ids)
    transaction.on_commit(
        lambda: prospects_created.send(
            sender=Prospect, workspace_id=workspace_id, prospect_ids=ids
        ),
        robust=True,
    )
