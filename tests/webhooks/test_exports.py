"""A list export cut into chunks: every body under 20 kB, every item once and in order."""

from hypothesis import given, settings
from hypothesis import strategies as st

from enrichment.webhooks.events import MAX_PAYLOAD_BYTES, body
from enrichment.webhooks.exports import chunk_events

ITEM = st.fixed_dictionaries({"id": st.integers(1, 10**9), "email": st.text(max_size=300)})


@settings(max_examples=60, deadline=None)
@given(
    st.lists(ITEM, max_size=300),
    st.lists(st.fixed_dictionaries({"id": st.integers(1, 10**9)}), max_size=300),
    st.text(max_size=200),
)
def test_every_chunk_is_under_the_limit_and_every_item_comes_once_in_order(kept, left, name):
    head = {"object": "campaign_export", "campaign": {"id": 7, "name": name}}
    events = chunk_events(
        "campaign.exported", "f" * 32, head, {"prospects": kept, "left_out": left}
    )
    assert all(len(body(e).encode()) < MAX_PAYLOAD_BYTES for e in events)
    assert [e.data["chunk"] for e in events] == list(range(1, len(events) + 1))
    assert {e.data["chunks"] for e in events} == {len(events)}
    assert len({e.key for e in events}) == len(events)
    assert [i for e in events for i in e.data["prospects"]] == kept
    assert [i for e in events for i in e.data["left_out"]] == left
    assert all(e.data["campaign"] == head["campaign"] for e in events)
