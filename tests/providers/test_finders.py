"""Email finders read each vendor's documented answer into one Finding, and ask each vendor
only with the inputs its API takes."""

import json

import pytest

from enrichment.providers.base import ErrorKind, ProviderError
from enrichment.providers.finders import DEFAULT_EMAIL_ORDER, EMAIL_FINDERS, Finding, Person
from tests.samples import sample_text

ELOISE = Person(first_name="Éloïse", last_name="Lefèvre", domain="acme.example", company="Acme")


def read(slug, body, status=200):
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return EMAIL_FINDERS[slug].read(status, raw, None)


def test_the_default_email_order_is_prospeo_leadmagic_findymail():
    assert DEFAULT_EMAIL_ORDER == ("prospeo", "leadmagic", "findymail")


def test_leadmagic_sample_is_a_verified_finding():
    finding = read("leadmagic", sample_text("leadmagic-email-finder.json"))
    assert finding == Finding(email="jesse@leadmagic.io", verified=True, signal=90, detail="valid")


def test_hunter_sample_is_a_verified_finding_with_its_score():
    finding = read("hunter", sample_text("hunter-email-finder.json"))
    assert (finding.email, finding.verified, finding.signal) == ("alexis@reddit.com", True, 97)


def test_findymail_contact_is_verified_and_404_is_not_found():
    found = read("findymail", {"contact": {"name": "E L", "email": "e@acme.example"}})
    assert found.verified and found.email == "e@acme.example"
    assert read("findymail", {"contact": None}) == Finding()
    assert read("findymail", "", status=404) == Finding()


def test_prospeo_no_match_is_not_found_and_unverified_email_is_a_weak_finding():
    assert read("prospeo", {"error": True, "error_code": "NO_MATCH"}) == Finding()
    body = {
        "error": False,
        "person": {
            "person_id": "p1",
            "email": {"status": "UNVERIFIED", "revealed": True, "email": "e@acme.example"},
        },
    }
    finding = read("prospeo", body)
    assert (finding.email, finding.verified, finding.detail) == (
        "e@acme.example",
        False,
        "UNVERIFIED",
    )
    assert finding.signal < 90


def test_apollo_person_without_email_is_not_found():
    assert read("apollo", {"person": {"id": "a1", "name": "E L"}}) == Finding()
    body = {"person": {"id": "a1", "email": "e@acme.example", "email_status": "verified"}}
    assert read("apollo", body).verified


# In-house discovery is an email finder the waterfall runs itself: it has no HTTP answer to read.
VENDORS = sorted(slug for slug in EMAIL_FINDERS if slug != "discovery")


@pytest.mark.parametrize("slug", VENDORS)
def test_errors_stay_classified_errors(slug):
    with pytest.raises(ProviderError) as raised:
        read(slug, "<html>Bad gateway</html>", status=502)
    assert raised.value.kind == ErrorKind.TEMPORARY


def test_each_vendor_is_asked_only_with_what_its_api_takes():
    no_domain = Person(first_name="Éloïse", last_name="Lefèvre", company="Acme")
    only_linkedin = Person(linkedin_url="https://www.linkedin.com/in/eloise")
    assert EMAIL_FINDERS["findymail"].can_ask(ELOISE)
    assert not EMAIL_FINDERS["findymail"].can_ask(no_domain)
    assert EMAIL_FINDERS["leadmagic"].can_ask(no_domain)
    assert EMAIL_FINDERS["prospeo"].can_ask(only_linkedin)
    assert not EMAIL_FINDERS["leadmagic"].can_ask(only_linkedin)


def test_prospeo_asks_by_linkedin_url_when_there_is_one_else_by_name_and_company():
    finder = EMAIL_FINDERS["prospeo"]
    by_name = finder.build(ELOISE).json["data"]
    assert by_name == {
        "first_name": "Éloïse",
        "last_name": "Lefèvre",
        "company_name": "Acme",
        "company_website": "acme.example",
    }
    with_url = Person(first_name="Éloïse", linkedin_url="https://www.linkedin.com/in/eloise")
    assert finder.build(with_url).json["data"] == {
        "linkedin_url": "https://www.linkedin.com/in/eloise"
    }
