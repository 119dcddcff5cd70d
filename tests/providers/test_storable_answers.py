"""Whatever text a vendor sends, what its answer holds can be stored by every database."""

from hypothesis import given
from hypothesis import strategies as st

from enrichment.providers import dropcontact
from prospects.normalize import is_storable

# Every code point JSON can carry, lone surrogates and NUL included.
any_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF))


@given(job=any_text, company=any_text, custom=any_text)
def test_every_text_of_an_answer_is_storable(job, company, custom):
    record = dropcontact.EnrichedRecord.model_validate(
        {
            "job": job,
            "company": company,
            "email": [{"email": f"a{custom}@acme.fr", "qualification": custom}],
            "custom_fields": {"note": [custom]},
        }
    )
    texts = [
        record.job,
        record.company,
        record.email[0].email,
        record.email[0].qualification,
        record.custom_fields["note"][0],
    ]
    assert all(is_storable(text) for text in texts)
    if is_storable(job):
        assert record.job == job.strip()  # what could be stored is kept as it was


def test_a_nul_byte_is_shown_not_dropped():
    record = dropcontact.EnrichedRecord.model_validate({"company": "Acme\x00 SAS", "job": "\ud800"})
    assert (record.company, record.job) == ("Acme\ufffd SAS", "\ufffd")
