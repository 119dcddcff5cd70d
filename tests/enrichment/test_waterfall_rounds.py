"""The email waterfall in rounds when a round goes wrong: Prospeo's answers replayed by
`responses` (the other vendors are the sandbox's), everything else real."""

import json

import pytest
import responses
from django.utils import timezone

from enrichment import bulk, waterfall_queue
from enrichment.engine import ledger
from enrichment.models import (
    CreditEntry,
    EnrichmentItem,
    ProviderAttempt,
    ProviderCall,
    attempt_key,
)
from enrichment.pipelines import waterfall, waterfall_rounds
from enrichment.providers.finders import EMAIL_FINDERS
from enrichment.providers.registry import get_provider
from tests.enrichment.test_waterfall import import_world

PROSPEO = "https://prospeo.test"
NO_MATCH = json.dumps({"error": True, "error_code": "NO_MATCH"})
# JSON nested deeper than Python's recursion limit: garbage, as an HTML error page is (with
# a person's name and phone before the nesting, which must not be kept in clear).
UNREADABLE = (
    '{"first_name": "Jean", "last_name": "Dupont", "phone": "+33612345678", "x": '
    + "[" * 100_000
    + "]" * 100_000
    + "}"
)


class Unforeseen(Exception):
    """What nothing expects while a question is asked: any bug met in one item's call."""


@pytest.fixture
def prospeo(email_ws, http, sandbox, settings):
    """Prospeo answers what the test queues (`answer`); the other vendors are the sandbox's."""
    settings.PROVIDER_BASE_URLS = {**settings.PROVIDER_BASE_URLS, "prospeo": PROSPEO}
    http.add_passthru(sandbox.url)
    queued: list[str] = []

    def answer(request):
        reply = queued.pop(0) if queued else NO_MATCH
        if isinstance(reply, Exception):
            raise reply
        return 200, {}, reply

    http.add_callback(responses.POST, f"{PROSPEO}/enrich-person", callback=answer)
    return queued


def started_items(workspace, world, count):
    """`count` queued items Prospeo can be asked about, in the order the rounds ask them."""
    import_world(workspace, world, limit=3 * count)
    bulk.start_job(workspace, bulk.estimate_job(workspace.pk))
    items = EnrichmentItem.objects.for_workspace(workspace).select_related("prospect__company")
    askable = [
        item.pk
        for item in items.order_by("pk")
        if EMAIL_FINDERS["prospeo"].can_ask(waterfall.person_of(item))
    ][:count]
    items.exclude(pk__in=askable).delete()
    waterfall_queue.start_items(askable)
    return askable


def prospeo_asked(http):
    return sum(1 for call in http.calls if call.request.url.startswith(PROSPEO))


def test_a_round_that_raises_writes_what_it_did_first(email_ws, world, http, prospeo):
    """Prospeo answers two items, then the third call meets an unforeseen error: before it
    propagates the two answers are written (calls, attempts, money given back) and the fourth
    item's reservation, never sent, is released; only the question that failed keeps its hold,
    which the next run asks again under: nothing answered is asked again, nothing paid twice."""
    ids = started_items(email_ws, world, 4)
    prospeo.extend([NO_MATCH, NO_MATCH, Unforeseen("a bug")])

    with pytest.raises(Unforeseen):
        waterfall_rounds.process_items(ids)

    assert prospeo_asked(http) == 3
    assert ProviderCall.objects.for_workspace(email_ws).filter(provider="prospeo").count() == 2
    attempts = ProviderAttempt.objects.for_workspace(email_ws).filter(provider="prospeo")
    answered = attempts.filter(result="not_found").exclude(call=None)
    assert set(answered.values_list("item_id", flat=True)) == set(ids[:2])
    assert ledger.in_flight(email_ws.pk) == get_provider("prospeo").max_cost
    released = CreditEntry.objects.for_workspace(email_ws).filter(kind="release")
    assert released.count() == 3

    EnrichmentItem.objects.for_workspace(email_ws).update(next_attempt_at=timezone.now())
    waterfall_rounds.process_items(ids)

    assert prospeo_asked(http) == 5  # the two items whose question was not answered
    assert ledger.in_flight(email_ws.pk) == 0
    assert not EnrichmentItem.objects.for_workspace(email_ws).filter(status="submitted").exists()


def test_a_key_held_at_another_price_is_asked_under_that_hold(email_ws, world, sandbox):
    """Prices changed while an earlier try of the item's question held its key: that
    reservation stands (as a Dropcontact batch's does), the vendor is asked under it and it is
    closed, instead of the item being put back for the same refusal again and again."""
    [item_id] = started_items(email_ws, world, 1)
    item = EnrichmentItem.objects.for_workspace(email_ws).get(pk=item_id)
    key = attempt_key(item, "email", "prospeo")
    ledger.reserve(email_ws.pk, "0.01", key=key, provider="prospeo")

    result = waterfall_rounds.process_items([item_id])[item_id]

    assert result in ("verified", "unverified", "not-found")
    assert [call.vendor for call in sandbox.calls].count("prospeo") == 1
    entries = CreditEntry.objects.for_workspace(email_ws).filter(idempotency_key__startswith=key)
    assert sorted(entries.values_list("idempotency_key", "kind")) in (
        [(key, "release"), (key, "reserve")],
        [(key, "reserve"), (key, "settle")],
    )
    assert ledger.in_flight(email_ws.pk) == 0


def test_an_answer_nested_past_the_stack_is_a_vendor_error_not_a_crash(
    email_ws, world, http, prospeo
):
    """JSON nested deeper than Python's stack is garbage from the vendor, as an HTML error
    page is: the call is kept (with its excerpt), the attempt says so, the item waits to be
    asked again; nothing raises and nothing stays held."""
    [item_id] = started_items(email_ws, world, 1)
    prospeo.append(UNREADABLE)

    waterfall_rounds.process_items([item_id])

    call = ProviderCall.objects.for_workspace(email_ws).get(provider="prospeo")
    assert call.response_excerpt
    assert "Dupont" not in call.response_excerpt and "612345678" not in call.response_excerpt
    attempt = ProviderAttempt.objects.for_workspace(email_ws).get(provider="prospeo")
    assert attempt.call_id == call.pk and attempt.result != "found"
    assert ledger.in_flight(email_ws.pk) == 0
