"""Every documented sample and every documented error class maps to one stable outcome code."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from enrichment.providers.base import CallOutcome, ErrorKind, ProviderError, classify
from tests.samples import sample_json, sample_text

FOUND, NOT_FOUND = CallOutcome.FOUND, CallOutcome.NOT_FOUND
PERMANENT, TEMPORARY = CallOutcome.PERMANENT, CallOutcome.TEMPORARY
RATE_LIMITED, QUOTA, AUTH = CallOutcome.RATE_LIMITED, CallOutcome.QUOTA, CallOutcome.AUTH


def outcome_of(parse: Callable[..., Any], status: int, body: Any) -> CallOutcome:
    """Parse as the engine would and classify the answer or the error it raised."""
    text = body if isinstance(body, str) else json.dumps(body)
    try:
        return classify(parse(status, text))
    except ProviderError as error:
        return classify(error)


def test_the_codes_are_the_seven_of_the_issue_and_keep_error_kinds_values():
    assert [o.value for o in CallOutcome] == [
        "found",
        "not_found",
        "permanent",
        "temporary",
        "rate_limited",
        "quota",
        "auth",
    ]
    assert {k.value for k in ErrorKind} <= {o.value for o in CallOutcome}
    for kind in ErrorKind:
        assert ProviderError("x", kind=kind).outcome == kind.value


def _record(**overrides):
    return {**sample_json("dropcontact-enrich_all-get-record-legacy.json"), **overrides}


DROPCONTACT = [
    ("submit sample", dropcontact.parse_submit_response, 200,
     sample_text("dropcontact-enrich_all-post-response.json"), FOUND),
    ("record sample", dropcontact.parse_poll_response, 200,
     {"success": True, "data": [_record()]}, FOUND),
    ("record without email", dropcontact.parse_poll_response, 200,
     {"success": True, "data": [_record(email=[])]}, NOT_FOUND),
    ("not ready", dropcontact.parse_poll_response, 200,
     {"success": False, "reason": "Request not ready yet, try again in 30 seconds"}, TEMPORARY),
    ("reason sample at 400", dropcontact.parse_submit_response, 400,
     sample_text("dropcontact-error-reason.json"), PERMANENT),
    ("reason sample at 200", dropcontact.parse_submit_response, 200,
     sample_text("dropcontact-error-reason.json"), PERMANENT),
    ("detail sample at 404", dropcontact.parse_poll_response, 404,
     sample_text("dropcontact-error-detail.json"), PERMANENT),
    ("detail sample at 422", dropcontact.parse_submit_response, 422,
     sample_text("dropcontact-error-detail.json"), PERMANENT),
    ("detail sample at 500", dropcontact.parse_submit_response, 500,
     sample_text("dropcontact-error-detail.json"), TEMPORARY),
    ("bad token", dropcontact.parse_submit_response, 401, {"detail": "Invalid token"}, AUTH),
    ("no credits at 403", dropcontact.parse_submit_response, 403,
     {"error": True, "reason": "Not enough credits"}, QUOTA),
    ("too fast", dropcontact.parse_submit_response, 429, {"detail": "Too Many Requests"},
     RATE_LIMITED),
]  # fmt: skip

PROSPEO_MATCH = {"error": False, "person": {"person_id": "p1", "full_name": "Éloïse Lefèvre"}}
PROSPEO = [
    ("match", prospeo.parse_enrich_person_response, 200, PROSPEO_MATCH, FOUND),
    ("no match", prospeo.parse_enrich_person_response, 200,
     {"error": True, "error_code": "NO_MATCH"}, NOT_FOUND),
    *[
        (code, prospeo.parse_enrich_person_response, status, {"error": True, "error_code": code},
         expected)
        for code, status, expected in (
            ("INSUFFICIENT_CREDITS", 400, QUOTA),
            ("INVALID_API_KEY", 401, AUTH),
            ("ACCOUNT_RESTRICTED", 403, AUTH),
            ("RATE_LIMITED", 429, RATE_LIMITED),
            ("RATE_LIMIT_EXCEEDED", 200, RATE_LIMITED),
            ("INVALID_DATAPOINTS", 400, PERMANENT),
            ("INVALID_REQUEST", 400, PERMANENT),
            ("INTERNAL_ERROR", 500, TEMPORARY),
        )
    ],
]  # fmt: skip


def _leadmagic_error(code: str) -> dict:
    body = sample_json("leadmagic-error-rfc9457.json")
    body["errors"][0]["code"] = code
    return body


LEADMAGIC = [
    ("finder sample", leadmagic.parse_email_finder_response, 200,
     sample_text("leadmagic-email-finder.json"), FOUND),
    ("finder miss", leadmagic.parse_email_finder_response, 200,
     {"email": None, "status": "not_found", "credits_consumed": 0}, NOT_FOUND),
    ("profile sample", leadmagic.parse_profile_email_response, 200,
     sample_text("leadmagic-b2b-profile-email.json"), FOUND),
    ("credits sample", leadmagic.parse_credits_response, 200,
     sample_text("leadmagic-credits.json"), FOUND),
    ("error sample", leadmagic.parse_email_finder_response, 400,
     sample_text("leadmagic-error-rfc9457.json"), PERMANENT),
    ("unauthorized", leadmagic.parse_email_finder_response, 401,
     _leadmagic_error("unauthorized"), AUTH),
    ("insufficient credits", leadmagic.parse_email_finder_response, 402,
     _leadmagic_error("insufficient_credits"), QUOTA),
    ("rate limit", leadmagic.parse_email_finder_response, 429,
     _leadmagic_error("rate_limit_exceeded"), RATE_LIMITED),
    ("server error", leadmagic.parse_email_finder_response, 503, "<html>down</html>", TEMPORARY),
]  # fmt: skip

FINDYMAIL = [
    ("verify sample", findymail.parse_verify_response, 200,
     sample_text("findymail-verify.json"), FOUND),
    ("verify: not deliverable", findymail.parse_verify_response, 200,
     {"email": "x@acme.example", "verified": False}, NOT_FOUND),
    ("credits sample", findymail.parse_verify_response, 200,
     sample_text("findymail-error-credits.json"), QUOTA),
    ("search found", findymail.parse_search_name_response, 200,
     {"contact": {"name": "Éloïse", "email": "e@acme.example"}}, FOUND),
    ("search empty", findymail.parse_search_name_response, 200, {"contact": None}, NOT_FOUND),
    ("search 404", findymail.parse_search_name_response, 404, {"error": "Not found"}, NOT_FOUND),
    ("bad key", findymail.parse_search_name_response, 401, {"error": "Unauthenticated."}, AUTH),
    ("too fast", findymail.parse_search_name_response, 429, {"error": "Too many"}, RATE_LIMITED),
    ("bad input", findymail.parse_search_name_response, 422, {"error": "invalid"}, PERMANENT),
    ("down", findymail.parse_search_name_response, 502, "<html>Bad gateway</html>", TEMPORARY),
]  # fmt: skip

AIARK_PAGE = {"content": [], "totalElements": 0, "totalPages": 0}
AIARK = [
    ("empty company page", aiark.parse_company_search_response, 200, AIARK_PAGE, NOT_FOUND),
    ("company page", aiark.parse_company_search_response, 200,
     {**AIARK_PAGE, "content": [{"id": "c1"}], "totalElements": 1, "totalPages": 1}, FOUND),
    ("people page", aiark.parse_people_search_response, 200,
     {**AIARK_PAGE, "content": [{"id": "p1"}], "totalElements": 1, "totalPages": 1}, FOUND),
    ("export miss", aiark.parse_export_single_response, 404, "", NOT_FOUND),
    ("export", aiark.parse_export_single_response, 200, {"id": "p1"}, FOUND),
    ("bad token", aiark.parse_company_search_response, 401, {"message": "Unauthorized"}, AUTH),
    ("no credits", aiark.parse_company_search_response, 402, {"message": "Payment"}, QUOTA),
    ("too fast", aiark.parse_company_search_response, 429, {}, RATE_LIMITED),
    ("bad body", aiark.parse_company_search_response, 400, {"message": "bad"}, PERMANENT),
    ("not the documented page", aiark.parse_company_search_response, 200, {"items": []},
     TEMPORARY),
]  # fmt: skip

FIRECRAWL_ERROR = sample_text("firecrawl-error.json")
FIRECRAWL = [
    ("start sample", firecrawl.parse_extract_response, 200,
     sample_text("firecrawl-extract-post-v2.json"), FOUND),
    # The documented poll sample completed with an empty `data`: nothing was extracted.
    ("poll sample", firecrawl.parse_extract_status_response, 200,
     sample_text("firecrawl-extract-get-v2.json"), NOT_FOUND),
    ("poll with data", firecrawl.parse_extract_status_response, 200,
     {"success": True, "status": "completed", "data": {"name": "Acme"}}, FOUND),
    ("still processing", firecrawl.parse_extract_status_response, 200,
     {"success": True, "status": "processing"}, TEMPORARY),
    ("failed job", firecrawl.parse_extract_status_response, 200,
     {"success": True, "status": "failed"}, PERMANENT),
    ("error sample at 401", firecrawl.parse_extract_response, 401, FIRECRAWL_ERROR, AUTH),
    ("error sample at 402", firecrawl.parse_extract_response, 402, FIRECRAWL_ERROR, QUOTA),
    ("error sample at 429", firecrawl.parse_extract_response, 429, FIRECRAWL_ERROR, RATE_LIMITED),
    ("error sample at 400", firecrawl.parse_extract_response, 400, FIRECRAWL_ERROR, PERMANENT),
    ("error sample at 500", firecrawl.parse_extract_response, 500, FIRECRAWL_ERROR, TEMPORARY),
    ("success false at 200", firecrawl.parse_extract_response, 200, FIRECRAWL_ERROR, TEMPORARY),
]  # fmt: skip

HUNTER_ERROR = sample_text("hunter-error-400.json")
HUNTER = [
    ("finder sample", hunter.parse_email_finder_response, 200,
     sample_text("hunter-email-finder.json"), FOUND),
    ("finder miss", hunter.parse_email_finder_response, 200, {"data": {"email": None}}, NOT_FOUND),
    ("claimed (451)", hunter.parse_email_finder_response, 451, "", NOT_FOUND),
    ("verifier sample", hunter.parse_email_verifier_response, 200,
     sample_text("hunter-email-verifier.json"), FOUND),
    ("verifier: invalid", hunter.parse_email_verifier_response, 200,
     {"data": {"status": "invalid", "email": "x@acme.example"}}, NOT_FOUND),
    ("error sample", hunter.parse_email_finder_response, 400, HUNTER_ERROR, PERMANENT),
    ("401", hunter.parse_email_finder_response, 401, HUNTER_ERROR, AUTH),
    # Hunter's own reading: 403 is its rate limit, 429 its usage quota.
    ("403 is the rate limit", hunter.parse_email_finder_response, 403, HUNTER_ERROR,
     RATE_LIMITED),
    ("429 is the quota", hunter.parse_email_finder_response, 429, HUNTER_ERROR, QUOTA),
    ("202 still verifying", hunter.parse_email_verifier_response, 202, "", TEMPORARY),
    ("222 smtp failed", hunter.parse_email_verifier_response, 222, "", TEMPORARY),
]  # fmt: skip

APOLLO = [
    ("match", apollo.parse_people_match_response, 200, {"person": {"id": "a1"}}, FOUND),
    ("no match", apollo.parse_people_match_response, 200, {"person": None}, NOT_FOUND),
    ("bad key", apollo.parse_people_match_response, 401, {"error": "Invalid access"}, AUTH),
    ("no credits", apollo.parse_people_match_response, 422,
     {"error": "You have insufficient credits"}, QUOTA),
    ("too fast", apollo.parse_people_match_response, 429, {"message": "slow down"}, RATE_LIMITED),
    ("bad input", apollo.parse_people_match_response, 422, {"error": "bad"}, PERMANENT),
    ("server", apollo.parse_people_match_response, 502, "", TEMPORARY),
]  # fmt: skip

CLEARBIT = [
    ("person", clearbit.parse_combined_find_response, 200,
     {"person": {"id": "c1"}, "company": None}, FOUND),
    ("unknown (404)", clearbit.parse_combined_find_response, 404, "", NOT_FOUND),
    ("queued (202)", clearbit.parse_combined_find_response, 202, "", TEMPORARY),
    ("invalid email (422)", clearbit.parse_combined_find_response, 422,
     {"error": {"type": "email_invalid", "message": "Invalid email"}}, PERMANENT),
    ("bad key", clearbit.parse_combined_find_response, 401,
     {"error": {"type": "auth_required", "message": "no"}}, AUTH),
    ("no credits", clearbit.parse_combined_find_response, 402, {}, QUOTA),
    ("too fast", clearbit.parse_combined_find_response, 429, {}, RATE_LIMITED),
]  # fmt: skip

TABLES = {
    "dropcontact": DROPCONTACT,
    "prospeo": PROSPEO,
    "leadmagic": LEADMAGIC,
    "findymail": FINDYMAIL,
    "aiark": AIARK,
    "firecrawl": FIRECRAWL,
    "hunter": HUNTER,
    "apollo": APOLLO,
    "clearbit": CLEARBIT,
}
CASES = [
    pytest.param(parse, status, body, expected, id=f"{vendor}: {label}")
    for vendor, table in TABLES.items()
    for label, parse, status, body, expected in table
]


@pytest.mark.parametrize(("parse", "status", "body", "expected"), CASES)
def test_answer_maps_to_its_outcome_code(parse, status, body, expected):
    assert outcome_of(parse, status, body) is expected


def test_every_adapter_is_checked_against_all_seven_codes():
    for vendor, table in TABLES.items():
        codes = {expected for *_rest, expected in table}
        assert codes == set(CallOutcome), (vendor, set(CallOutcome) - codes)


PARSERS = [
    parse for *_rest, parse in {(v, p.__name__, p) for v, t in TABLES.items() for _l, p, *_ in t}
]
BODIES = st.one_of(
    st.binary(max_size=64),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["error", "error_code", "success", "data", "person", "contact",
                             "status", "email", "content", "errors", "detail", "reason"]),
            inner,
            max_size=4,
        ),
        max_leaves=8,
    ).map(lambda value: json.dumps(value).encode()),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    parse=st.sampled_from(PARSERS),
    status=st.sampled_from([200, 202, 222, 400, 401, 402, 403, 404, 422, 429, 451, 500, 503]),
    body=BODIES,
)
def test_any_answer_gets_exactly_one_code_and_never_an_unclassified_exception(parse, status, body):
    try:
        code = classify(parse(status, body))
    except ProviderError as error:
        code = classify(error)
    assert code in set(CallOutcome)
