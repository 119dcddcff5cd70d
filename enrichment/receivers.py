"""Reactions to the hooks `prospects` exposes (it never imports this app)."""

from django.dispatch import receiver

from prospects.signals import persons_objected, prospects_created

from . import services
from .tasks import queue_enrichment_task


@receiver(prospects_created, dispatch_uid="enrichment.queue_new_prospects")
def queue_new_prospects(sender, *, workspace_id: int, prospect_ids: list[int], **kwargs) -> None:
    """New prospects (admin, import, API) get a Dropcontact item: a worker creates it, so an
    import is not slowed down by enrichment (the sweeper catches any lost message)."""
    for start in range(0, len(prospect_ids), 1000):
        queue_enrichment_task.delay(workspace_id, prospect_ids[start : start + 1000])


@receiver(persons_objected, dispatch_uid="enrichment.cancel_objecting_items")
def cancel_items_of_objectors(
    sender, *, workspace_id: int, prospect_ids: list[int], **kwargs
) -> None:
    """Someone just objected: whatever is queued or in flight for them is cancelled at once."""
    services.cancel_objecting_items(workspace_id, prospect_ids=prospect_ids)
