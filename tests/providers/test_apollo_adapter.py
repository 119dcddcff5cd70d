"""Apollo people/match: partial docs, so the model is held to the `person` key and its fields."""

import pytest

from enrichment.providers import apollo
from enrichment.providers.base import ErrorKind, ProviderError
from enrichment.sandbox import world as w
from tests.sandbox.support import KEY, pick, send

HEADERS = apollo.auth_headers(KEY)


def _match(sandbox, headers=HEADERS, **kwargs):
    answer = send(sandbox, "apollo", apollo.build_people_match_request(**kwargs), headers=headers)
    return apollo.parse_people_match_response(answer.status, answer.body)


def _by_name(sandbox, person, **kwargs):
    return _match(sandbox, first_name=person.first_name, last_name=person.last_name,
                  domain=person.company.domain, **kwargs)


def test_parameters_go_in_the_query_string():
    request = apollo.build_people_match_request(first_name="Éloïse", domain="a.example")
    assert request.params == {"first_name": "Éloïse", "domain": "a.example",
                              "reveal_personal_emails": "false"}
    assert request.json is None


def test_live_match_by_name_linkedin_and_email(sandbox, world):
    person = pick(world, w.VERIFIED)
    for result in (_by_name(sandbox, person),
                   _match(sandbox, linkedin_url=person.linkedin_url),
                   _match(sandbox, email=person.true_email)):
        assert result.found and result.person.has_verified_email
        assert result.person.email == person.true_email
        assert result.person.organization.primary_domain == person.company.domain


def test_live_email_status_follows_the_world(sandbox, world):
    catch_all = _by_name(sandbox, pick(world, w.CATCH_ALL)).person
    assert catch_all.email_status == "extrapolated" and not catch_all.has_verified_email
    gone = _by_name(sandbox, pick(world, w.MAILBOX_GONE)).person
    assert gone.email is None and gone.email_status == "unavailable"
    assert not _by_name(sandbox, pick(world, w.DO_NOT_CONTACT)).found
    assert not _match(sandbox, first_name="Personne", last_name="Inconnue",
                      domain="nowhere.example").found


def test_live_errors_are_classified(sandbox, world):
    person = pick(world, w.VERIFIED)
    with pytest.raises(ProviderError) as caught:
        _by_name(sandbox, person, headers=apollo.auth_headers("wrong"))
    assert caught.value.kind is ErrorKind.AUTH
    with pytest.raises(ProviderError) as caught:
        _match(sandbox, first_name="Seul")
    assert caught.value.kind is ErrorKind.PERMANENT
    sandbox.set_faults("apollo", credits=0)
    with pytest.raises(ProviderError) as caught:
        _by_name(sandbox, person)
    assert caught.value.kind is ErrorKind.QUOTA
    sandbox.set_faults("apollo", error_rate=1.0, kinds=["429"])
    with pytest.raises(ProviderError) as caught:
        _by_name(sandbox, person)
    assert caught.value.kind is ErrorKind.RATE_LIMITED
