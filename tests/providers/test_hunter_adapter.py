"""Hunter: the documented samples and the sandbox's answers read through the same models."""

import pytest

from enrichment.providers import hunter
from enrichment.providers.base import ErrorKind, ProviderError, ProviderRequest
from enrichment.sandbox import world as w
from enrichment.sandbox.vendors.base import stable_fraction
from tests.sandbox.support import KEY, pick, same_shape, sample_json, sample_text, send

AUTH = hunter.auth_params(KEY)


def _finder(sandbox, person, **params):
    request = hunter.build_email_finder_request(
        first_name=person.first_name, last_name=person.last_name, domain=person.company.domain
    )
    return send(sandbox, "hunter", request, params={**AUTH, **params})


def _verifier(sandbox, email, params=AUTH):
    return send(sandbox, "hunter", hunter.build_email_verifier_request(email), params=params)


def _parse_finder(answer):
    return hunter.parse_email_finder_response(answer.status, answer.body)


def _parse_verifier(answer):
    return hunter.parse_email_verifier_response(answer.status, answer.body)


def _not_slow(person):
    return stable_fraction("hunter-smtp", person.pattern_email) >= 0.10


def test_finder_sample_parses():
    result = hunter.parse_email_finder_response(200, sample_text("hunter-email-finder.json"))
    assert result.email == "alexis@reddit.com"
    assert result.data.score == 97 and result.data.accept_all is False
    assert result.verification_status == "valid"
    assert result.data.sources[0].domain == "redditblog.com"
    assert not result.claimed


def test_verifier_sample_parses_on_status_not_the_deprecated_result():
    result = hunter.parse_email_verifier_response(200, sample_text("hunter-email-verifier.json"))
    assert result.status == "valid"
    assert result.data.score == 100 and result.data.smtp_check is True
    assert len(result.data.sources) == 2


def test_error_sample_is_a_permanent_error():
    with pytest.raises(ProviderError) as caught:
        hunter.parse_email_finder_response(400, sample_text("hunter-error-400.json"))
    assert caught.value.kind is ErrorKind.PERMANENT
    assert "You are missing the domain parameter" in str(caught.value)


def test_live_finder_has_the_sample_shape_and_finds_the_verified_address(sandbox, world):
    person = pick(world, w.VERIFIED)
    answer = _finder(sandbox, person)
    assert same_shape(answer.json(), sample_json("hunter-email-finder.json")) == []
    result = _parse_finder(answer)
    assert result.email == person.true_email
    assert result.verification_status == "valid" and result.data.accept_all is False


def test_live_finder_flags_catch_all_and_finds_nothing_for_gone_mailboxes(sandbox, world):
    catch_all = _parse_finder(_finder(sandbox, pick(world, w.CATCH_ALL)))
    assert catch_all.data.accept_all is True and catch_all.verification_status == "accept_all"
    gone = _parse_finder(_finder(sandbox, pick(world, w.MAILBOX_GONE)))
    assert gone.email is None and gone.data.score is None
    no_mail = _parse_finder(_finder(sandbox, pick(world, w.NO_MAIL)))
    assert no_mail.email is None


def test_claimed_people_are_451_and_read_as_claimed(sandbox, world):
    answer = _finder(sandbox, pick(world, w.DO_NOT_CONTACT))
    assert answer.status == 451
    result = _parse_finder(answer)
    assert result.claimed and result.email is None


def test_live_missing_domain_is_exactly_the_documented_error(sandbox):
    answer = send(sandbox, "hunter", ProviderRequest("GET", hunter.EMAIL_FINDER_PATH),
                  params={**AUTH, "first_name": "A", "last_name": "B"})
    assert (answer.status, answer.json()) == (400, sample_json("hunter-error-400.json"))


def test_live_verifier_has_the_sample_shape_and_the_worlds_verdicts(sandbox, world):
    verified = pick(world, w.VERIFIED, where=_not_slow)
    answer = _verifier(sandbox, verified.true_email)
    assert same_shape(answer.json(), sample_json("hunter-email-verifier.json")) == []
    assert _parse_verifier(answer).status == "valid"
    catch_all = pick(world, w.CATCH_ALL, where=_not_slow)
    assert _parse_verifier(_verifier(sandbox, catch_all.true_email)).status == "accept_all"
    gone = pick(world, w.MAILBOX_GONE, where=_not_slow)
    assert _parse_verifier(_verifier(sandbox, gone.pattern_email)).status == "invalid"


def test_slow_and_failing_smtp_servers_mean_ask_again(sandbox, world):
    slow = next(p for p in world.people if p.true_email and p.expected_verdict == w.VERIFIED
                and stable_fraction("hunter-smtp", p.true_email) < 0.05)
    odd = next(p for p in world.people if p.true_email and p.expected_verdict == w.VERIFIED
               and 0.05 <= stable_fraction("hunter-smtp", p.true_email) < 0.10)
    for person, status in ((slow, 202), (odd, 222)):
        first = _verifier(sandbox, person.true_email)
        assert first.status == status
        with pytest.raises(ProviderError) as caught:
            _parse_verifier(first)
        assert caught.value.kind is ErrorKind.TEMPORARY and caught.value.retry_after
        assert _parse_verifier(_verifier(sandbox, person.true_email)).status == "valid"


def test_status_quirks_403_is_rate_limit_and_429_is_quota(sandbox, world):
    person = pick(world, w.VERIFIED)
    with pytest.raises(ProviderError) as caught:
        _parse_finder(_finder(sandbox, person, api_key="wrong"))
    assert caught.value.kind is ErrorKind.AUTH
    sandbox.set_faults("hunter", error_rate=1.0, kinds=["429"], retry_after=3)
    answer = _finder(sandbox, person)
    assert answer.status == 403
    with pytest.raises(ProviderError) as caught:
        hunter.parse_email_finder_response(answer.status, answer.body, retry_after=3)
    assert caught.value.kind is ErrorKind.RATE_LIMITED and caught.value.retry_after == 3
    sandbox.clear_faults()
    sandbox.set_faults("hunter", credits=0)
    answer = _finder(sandbox, person)
    assert answer.status == 429
    with pytest.raises(ProviderError) as caught:
        _parse_finder(answer)
    assert caught.value.kind is ErrorKind.QUOTA
