"""Handing waterfall items to workers: each item once, not again at every sweep while its
message waits in the broker's queue; again once it is put back in the queue or its message
looks lost. The messages themselves are the broker's business: they are counted at the
boundary (the task's `delay`), not run."""

import datetime as dt

import pytest
from django.utils import timezone

from enrichment import credentials, tasks, waterfall_queue
from enrichment.models import EnrichmentItem
from prospects.models import Prospect
from tests.factories import ProspectFactory


@pytest.fixture
def sent(monkeypatch) -> list[int]:
    """The item ids sent to the broker (a message carries several)."""
    messages: list[int] = []
    monkeypatch.setattr(tasks.run_waterfall_items_task, "delay", messages.extend)
    return messages


@pytest.fixture
def queued(workspace) -> list[EnrichmentItem]:
    credentials.set_api_key(workspace, "prospeo", "sandbox-key-1234")
    prospects = [ProspectFactory(workspace=workspace) for _ in range(3)]
    waterfall_queue.queue_waterfall(workspace.pk, [p.pk for p in prospects])
    return list(EnrichmentItem.objects.for_workspace(workspace).order_by("pk"))


def test_an_item_is_sent_once_while_its_message_waits(workspace, queued, sent):
    assert waterfall_queue.dispatch_waterfall(workspace.pk) == 3
    assert waterfall_queue.dispatch_waterfall(workspace.pk) == 0  # the next sweep
    assert waterfall_queue.dispatch_waterfall() == 0
    assert sorted(sent) == [item.pk for item in queued]
    statuses = Prospect.objects.for_workspace(workspace).values_list("status", flat=True)
    assert set(statuses) == {Prospect.Status.ENRICHING}


def test_an_item_put_back_in_the_queue_is_sent_again_when_due(workspace, queued, sent):
    waterfall_queue.dispatch_waterfall(workspace.pk)
    sent.clear()
    items = EnrichmentItem.objects.for_workspace(workspace)
    later = timezone.now() + dt.timedelta(seconds=1)
    # A worker deferred the first (every slot busy); the second's worker died with its lease.
    items.filter(pk=queued[0].pk).update(next_attempt_at=later)
    items.filter(pk=queued[1].pk).update(
        status=EnrichmentItem.Status.SUBMITTED, next_attempt_at=later, lease_token="dead"
    )
    assert waterfall_queue.dispatch_waterfall(workspace.pk) == 0  # not due yet
    items.filter(pk__in=[queued[0].pk, queued[1].pk]).update(
        next_attempt_at=timezone.now() - dt.timedelta(milliseconds=1)  # now due
    )
    assert waterfall_queue.dispatch_waterfall(workspace.pk) == 2
    assert sorted(sent) == [queued[0].pk, queued[1].pk]


def test_a_message_that_looks_lost_is_sent_again(workspace, queued, sent, settings):
    settings.SOURCIER_REDISPATCH_SECONDS = 120
    waterfall_queue.dispatch_waterfall(workspace.pk)
    sent.clear()
    items = EnrichmentItem.objects.for_workspace(workspace)
    items.filter(pk=queued[2].pk).update(dispatched_at=timezone.now() - dt.timedelta(seconds=121))
    assert waterfall_queue.dispatch_waterfall(workspace.pk) == 1
    assert sent == [queued[2].pk]


def test_a_long_queue_goes_in_messages_of_several_items_smaller_at_its_end(settings):
    settings.SOURCIER_WATERFALL_ROUND_SIZE = 8
    settings.PROVIDER_CONCURRENCY = 10
    ids = list(range(1, 501))
    chunks = waterfall_queue.chunks(ids)
    assert [pk for chunk in chunks for pk in chunk] == ids  # each once, in order
    sizes = [len(chunk) for chunk in chunks]
    assert sizes[0] == 8 and max(sizes) == 8
    assert sizes == sorted(sizes, reverse=True)
    # The last messages carry one item each: the workers end close together.
    assert sizes[-19:] == [1] * 19
    # A short queue still keeps every worker busy: one item per message.
    assert waterfall_queue.chunks(list(range(15))) == [[pk] for pk in range(15)]
    # Not the queue's end (more items wait behind these): full messages only.
    assert {len(chunk) for chunk in waterfall_queue.chunks(ids[:496], more=True)} == {8}

