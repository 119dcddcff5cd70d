"""LeadMagic: the documented samples and the sandbox's answers read through the same models."""

import json

import pytest

from enrichment.providers import leadmagic
from enrichment.providers.base import ErrorKind, ProviderError
from enrichment.sandbox import world as w
from tests.sandbox.support import KEY, pick, same_shape, sample_json, sample_text, send

HEADERS = leadmagic.auth_headers(KEY)


def _find(sandbox, person, headers=HEADERS):
    request = leadmagic.build_email_finder_request(
        first_name=person.first_name, last_name=person.last_name, domain=person.company.domain
    )
    return send(sandbox, "leadmagic", request, headers=headers)


def _parse(answer):
    return leadmagic.parse_email_finder_response(answer.status, answer.body)


def test_email_finder_sample_parses():
    result = leadmagic.parse_email_finder_response(200, sample_text("leadmagic-email-finder.json"))
    assert result.email == "jesse@leadmagic.io" and result.is_valid
    assert result.credits_consumed == 1 and result.has_mx is True
    assert result.company_location.locality == "boston"
    assert result.employment_verified is True


def test_profile_email_sample_parses():
    result = leadmagic.parse_profile_email_response(
        200, sample_text("leadmagic-b2b-profile-email.json"))
    assert (result.email, result.credits_consumed) == ("alex.rivera@example.com", 5)
    assert result.profile_url == "linkedin.com/in/alex-rivera"


def test_rfc9457_error_sample_is_permanent():
    with pytest.raises(ProviderError) as caught:
        leadmagic.parse_email_finder_response(400, sample_text("leadmagic-error-rfc9457.json"))
    assert caught.value.kind is ErrorKind.PERMANENT
    assert "validation_error" in str(caught.value)


def test_credits_sample_parses():
    result = leadmagic.parse_credits_response(200, sample_text("leadmagic-credits.json"))
    assert result.credits == 15432.5 and not result.is_frozen


def test_older_docs_catch_all_flag_is_understood():
    body = json.dumps({"email": "a@b.example", "status": "valid", "credits_consumed": 1,
                       "is_domain_catch_all": True})
    assert leadmagic.parse_email_finder_response(200, body).is_catch_all


def test_live_finder_has_the_sample_shape_and_the_verified_address(sandbox, world):
    person = pick(world, w.VERIFIED)
    answer = _find(sandbox, person)
    assert same_shape(answer.json(), sample_json("leadmagic-email-finder.json")) == []
    result = _parse(answer)
    assert result.email == person.true_email and result.is_valid
    assert result.company_name == person.company.name
    assert leadmagic.credits_remaining(answer.headers) == 100_000 - 1
    assert answer.headers["X-RateLimit-Limit"]


def test_live_finder_catch_all_and_misses(sandbox, world):
    catch_all = _parse(_find(sandbox, pick(world, w.CATCH_ALL)))
    assert catch_all.found and catch_all.is_catch_all and not catch_all.is_valid
    for verdict in (w.MAILBOX_GONE, w.NO_MAIL, w.DO_NOT_CONTACT):
        miss = _parse(_find(sandbox, pick(world, verdict)))
        assert not miss.found and miss.credits_consumed == 0
    assert sandbox.stats()["credits_used"] == {"leadmagic": {KEY: 1}}


def test_live_profile_email_has_the_sample_shape(sandbox, world):
    person = pick(world, w.VERIFIED)
    answer = send(sandbox, "leadmagic", leadmagic.build_profile_email_request(person.linkedin_url),
                  headers=HEADERS)
    assert same_shape(answer.json(), sample_json("leadmagic-b2b-profile-email.json")) == []
    result = leadmagic.parse_profile_email_response(answer.status, answer.body)
    assert result.email == person.true_email and result.credits_consumed == 5


def test_live_errors_have_the_rfc9457_shape_and_their_kinds(sandbox, world):
    person = pick(world, w.VERIFIED)
    unauthorized = _find(sandbox, person, headers=leadmagic.auth_headers("wrong"))
    assert unauthorized.status == 401
    assert unauthorized.headers["Content-Type"] == "application/problem+json"
    assert same_shape(unauthorized.json(), sample_json("leadmagic-error-rfc9457.json")) == []
    with pytest.raises(ProviderError) as caught:
        _parse(unauthorized)
    assert caught.value.kind is ErrorKind.AUTH
    sandbox.set_faults("leadmagic", credits=0)
    with pytest.raises(ProviderError) as caught:
        _parse(_find(sandbox, person))
    assert caught.value.kind is ErrorKind.QUOTA
    sandbox.set_faults("leadmagic", error_rate=1.0, kinds=["429"])
    with pytest.raises(ProviderError) as caught:
        _parse(_find(sandbox, person))
    assert caught.value.kind is ErrorKind.RATE_LIMITED
