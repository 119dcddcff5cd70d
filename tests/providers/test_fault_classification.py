"""Every adapter reads the sandbox's faults the same way: garbage and 5xx are temporary."""

import json

import pytest
import requests

from enrichment.providers import (
    aiark,
    apollo,
    clearbit,
    dropcontact,
    findymail,
    firecrawl,
    hunter,
    leadmagic,
    prospeo,
)
from enrichment.providers.base import ErrorKind, ProviderError
from tests.sandbox.support import KEY, send

CASES = {
    "dropcontact": (
        lambda: dropcontact.build_submit_request(
            [dropcontact.InputRecord(first_name="A", last_name="B")]
        ),
        dropcontact.auth_headers(KEY),
        {},
        dropcontact.parse_submit_response,
    ),
    "prospeo": (
        lambda: prospeo.build_enrich_person_request(linkedin_url="https://x"),
        prospeo.auth_headers(KEY),
        {},
        prospeo.parse_enrich_person_response,
    ),
    "leadmagic": (
        lambda: leadmagic.build_email_finder_request(
            first_name="A", last_name="B", domain="x.example"
        ),
        leadmagic.auth_headers(KEY),
        {},
        leadmagic.parse_email_finder_response,
    ),
    "findymail": (
        lambda: findymail.build_verify_request("a@x.example"),
        findymail.auth_headers(KEY),
        {},
        findymail.parse_verify_response,
    ),
    "aiark": (
        lambda: aiark.build_company_search_request(domain="x.example"),
        aiark.auth_headers(KEY),
        {},
        aiark.parse_company_search_response,
    ),
    "firecrawl": (
        lambda: firecrawl.build_extract_request(["https://x.example"]),
        firecrawl.auth_headers(KEY),
        {},
        firecrawl.parse_extract_response,
    ),
    "hunter": (
        lambda: hunter.build_email_verifier_request("probe@nowhere.example"),
        {},
        hunter.auth_params(KEY),
        hunter.parse_email_verifier_response,
    ),
    "apollo": (
        lambda: apollo.build_people_match_request(email="a@x.example"),
        apollo.auth_headers(KEY),
        {},
        apollo.parse_people_match_response,
    ),
    "clearbit": (
        lambda: clearbit.build_combined_find_request("a@x.example"),
        clearbit.auth_headers(KEY),
        {},
        clearbit.parse_combined_find_response,
    ),
}


def _answer(sandbox, vendor):
    build, headers, params, _ = CASES[vendor]
    return send(sandbox, vendor, build(), headers=headers, params=params)


@pytest.mark.parametrize("vendor", sorted(CASES))
@pytest.mark.parametrize("kind", ["500", "502", "503", "malformed", "html", "schema"])
def test_garbage_and_server_errors_are_temporary(sandbox, vendor, kind):
    sandbox.set_faults(vendor, error_rate=1.0, kinds=[kind])
    answer = _answer(sandbox, vendor)
    with pytest.raises(ProviderError) as caught:
        CASES[vendor][3](answer.status, answer.body)
    assert caught.value.kind is ErrorKind.TEMPORARY
    assert caught.value.retryable


@pytest.mark.parametrize("vendor", sorted(CASES))
def test_the_vendor_rate_limit_answer_is_rate_limited(sandbox, vendor):
    sandbox.set_faults(vendor, error_rate=1.0, kinds=["429"], retry_after=2)
    answer = _answer(sandbox, vendor)
    assert answer.headers["Retry-After"] == "2"
    with pytest.raises(ProviderError) as caught:
        CASES[vendor][3](answer.status, answer.body, retry_after=2.0)
    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.retry_after == 2.0


@pytest.mark.parametrize("vendor", sorted(CASES))
def test_a_wrong_key_is_an_auth_error(sandbox, vendor):
    build, headers, params, parse = CASES[vendor]
    wrong_headers = {k: v.replace(KEY, "wrong") for k, v in headers.items()}
    wrong_params = {k: v.replace(KEY, "wrong") for k, v in params.items()}
    answer = send(sandbox, vendor, build(), headers=wrong_headers, params=wrong_params)
    with pytest.raises(ProviderError) as caught:
        parse(answer.status, answer.body)
    assert caught.value.kind is ErrorKind.AUTH


@pytest.mark.parametrize("vendor", sorted(CASES))
def test_an_outage_is_temporary(sandbox, vendor):
    sandbox.set_faults(vendor, outage=True)
    answer = _answer(sandbox, vendor)
    assert answer.status == 503
    with pytest.raises(ProviderError) as caught:
        CASES[vendor][3](answer.status, answer.body)
    assert caught.value.kind is ErrorKind.TEMPORARY


def test_a_timeout_fault_times_the_client_out(sandbox):
    sandbox.set_faults("prospeo", error_rate=1.0, kinds=["timeout"], hang_seconds=1)
    with pytest.raises(requests.Timeout):
        send(sandbox, "prospeo", CASES["prospeo"][0](), headers=CASES["prospeo"][1], timeout=0.2)


@pytest.mark.parametrize(
    ("parse", "body", "kind"),
    [
        (
            firecrawl.parse_extract_response,
            {"success": False, "id": "job-1", "error": "Unauthorized: Invalid token"},
            ErrorKind.TEMPORARY,
        ),
        (
            leadmagic.parse_credits_response,
            {"success": False, "credits": 5, "errors": [{"code": "insufficient_credits"}]},
            ErrorKind.QUOTA,
        ),
    ],
)
def test_success_false_is_an_error_even_with_http_200(parse, body, kind):
    # Both bodies would otherwise read as valid answers: only the flag makes them failures.
    with pytest.raises(ProviderError) as caught:
        parse(200, json.dumps(body))
    assert (caught.value.status, caught.value.kind) == (200, kind)
