"""FindyMail: the documented samples and the sandbox's answers read through the same models."""

import pytest

from enrichment.providers import findymail
from enrichment.providers.base import ErrorKind, ProviderError
from enrichment.sandbox import world as w
from tests.sandbox.support import KEY, pick, same_shape, sample_json, sample_text, send

HEADERS = findymail.auth_headers(KEY)


def _search(sandbox, person, headers=HEADERS):
    request = findymail.build_search_name_request(name=person.full_name,
                                                  domain=person.company.domain)
    answer = send(sandbox, "findymail", request, headers=headers)
    return findymail.parse_search_name_response(answer.status, answer.body)


def _verify(sandbox, email):
    answer = send(sandbox, "findymail", findymail.build_verify_request(email), headers=HEADERS)
    return answer


def test_verify_sample_parses_with_its_obfuscated_email():
    result = findymail.parse_verify_response(200, sample_text("findymail-verify.json"))
    assert result.email == "[email protected]" and result.verified is True


@pytest.mark.parametrize("status", [200, 402])
def test_credits_error_sample_is_a_quota_error_whatever_the_status(status):
    with pytest.raises(ProviderError) as caught:
        findymail.parse_verify_response(status, sample_text("findymail-error-credits.json"))
    assert caught.value.kind is ErrorKind.QUOTA


def test_live_search_finds_only_verified_addresses(sandbox, world):
    person = pick(world, w.VERIFIED)
    found = _search(sandbox, person)
    assert found.found and found.contact.email == person.true_email
    assert found.contact.domain == person.company.domain
    for verdict in (w.CATCH_ALL, w.MAILBOX_GONE, w.NO_MAIL, w.DO_NOT_CONTACT):
        assert not _search(sandbox, pick(world, verdict)).found


def test_live_verify_has_the_sample_shape(sandbox, world):
    verified, catch_all = pick(world, w.VERIFIED), pick(world, w.CATCH_ALL)
    answer = _verify(sandbox, verified.true_email)
    assert same_shape(answer.json(), sample_json("findymail-verify.json")) == []
    assert findymail.parse_verify_response(answer.status, answer.body).verified is True
    other = _verify(sandbox, catch_all.true_email)
    assert findymail.parse_verify_response(other.status, other.body).verified is False


def test_live_errors(sandbox, world):
    person = pick(world, w.VERIFIED)
    with pytest.raises(ProviderError) as caught:
        _search(sandbox, person, headers=findymail.auth_headers("wrong"))
    assert caught.value.kind is ErrorKind.AUTH
    sandbox.set_faults("findymail", credits=0)
    answer = _verify(sandbox, person.true_email)
    assert same_shape(answer.json(), sample_json("findymail-error-credits.json")) == []
    with pytest.raises(ProviderError) as caught:
        findymail.parse_verify_response(answer.status, answer.body)
    assert caught.value.kind is ErrorKind.QUOTA
    invalid = _verify(sandbox, "not-an-email")
    with pytest.raises(ProviderError) as caught:
        findymail.parse_verify_response(invalid.status, invalid.body)
    assert caught.value.kind is ErrorKind.PERMANENT
