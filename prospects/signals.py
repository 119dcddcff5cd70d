"""The hooks other apps use to react to prospects without `prospects` importing them.

Both are sent after the transaction commits, with ids only
(`sender=Prospect, workspace_id=int, prospect_ids=list[int]`):
`prospects_created` for new prospects, `persons_objected` for the prospects who are a person
just added to the objection list.
"""

from django.db import transaction
from django.dispatch import Signal

prospects_created = Signal()
persons_objected = Signal()


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


def notify_persons_objected(workspace_id: int, prospect_ids: list[int]) -> None:
    """Send `persons_objected` once the current transaction commits (at once outside one)."""
    if not prospect_ids:
        return
    from .models import Prospect

    ids = list(prospect_ids)
    transaction.on_commit(
        lambda: persons_objected.send(sender=Prospect, workspace_id=workspace_id, prospect_ids=ids),
        robust=True,
    )
