"""Prospeo: no verbatim sample exists, so the sandbox is held to the documented partial shape."""

import json

import pytest

from enrichment.providers import prospeo
from enrichment.providers.base import ErrorKind, ProviderError
from enrichment.sandbox import world as w
from tests.sandbox.support import KEY, pick, send

HEADERS = prospeo.auth_headers(KEY)
# The beginning of the docs sample (SOURCES.md) and the MCP server's EmailInfo type.
DOCUMENTED_PERSON_KEYS = {
    "person_id", "first_name", "last_name", "full_name", "linkedin_url", "current_job_title",
    "current_job_key", "headline", "linkedin_member_id", "last_job_change_detected_at",
    "job_history",
}
DOCUMENTED_EMAIL_KEYS = {"status", "revealed", "email", "verification_method",
                         "email_mx_provider"}


def _enrich(sandbox, person, *, only_verified_email=True, headers=HEADERS):
    request = prospeo.build_enrich_person_request(
        first_name=person.first_name, last_name=person.last_name,
        company_website=person.company.website, only_verified_email=only_verified_email,
    )
    return send(sandbox, "prospeo", request, headers=headers)


def _parse(answer):
    return prospeo.parse_enrich_person_response(answer.status, answer.body)


def test_live_match_has_the_documented_keys_and_a_verified_email(sandbox, world):
    person = pick(world, w.VERIFIED)
    answer = _enrich(sandbox, person)
    payload = answer.json()
    assert {"error", "free_enrichment", "person"} <= payload.keys() and payload["error"] is False
    assert payload["person"].keys() >= DOCUMENTED_PERSON_KEYS
    assert set(payload["person"]["email"]) == DOCUMENTED_EMAIL_KEYS
    result = _parse(answer)
    assert result.matched and result.email.is_verified
    assert result.email.email == person.true_email
    assert result.person.linkedin_url == person.linkedin_url
    assert result.company.domain == person.company.domain


def test_catch_all_is_unverified_and_filtered_by_only_verified_email(sandbox, world):
    person = pick(world, w.CATCH_ALL)
    assert not _parse(_enrich(sandbox, person)).matched
    result = _parse(_enrich(sandbox, person, only_verified_email=False))
    assert result.matched and result.email.status == "UNVERIFIED" and not result.email.is_verified


def test_no_match_is_a_free_answer_not_an_error(sandbox, world):
    for verdict in (w.MAILBOX_GONE, w.DO_NOT_CONTACT):
        answer = _enrich(sandbox, pick(world, verdict))
        assert (answer.status, answer.json()) == (200, {"error": True, "error_code": "NO_MATCH"})
        assert not _parse(answer).matched
    assert sandbox.stats()["credits_used"] == {}


def test_no_match_with_an_error_status_reads_the_same():
    body = json.dumps({"error": True, "error_code": "NO_MATCH"})
    assert not prospeo.parse_enrich_person_response(400, body).matched


@pytest.mark.parametrize(
    ("setup", "data", "kind"),
    [
        ({}, {"first_name": "Seul"}, ErrorKind.PERMANENT),
        ({"credits": 0}, None, ErrorKind.QUOTA),
        ({"error_rate": 1.0, "kinds": ["429"]}, None, ErrorKind.RATE_LIMITED),
        ({"error_rate": 1.0, "kinds": ["500"]}, None, ErrorKind.TEMPORARY),
    ],
)
def test_live_errors_are_classified(sandbox, world, setup, data, kind):
    if setup:
        sandbox.set_faults("prospeo", **setup)
    person = pick(world, w.VERIFIED)
    request = (prospeo.build_enrich_person_request(**data) if data
               else prospeo.build_enrich_person_request(linkedin_url=person.linkedin_url))
    with pytest.raises(ProviderError) as caught:
        _parse(send(sandbox, "prospeo", request, headers=HEADERS))
    assert caught.value.kind is kind


def test_invalid_key_is_an_http_200_error_body(sandbox, world):
    answer = _enrich(sandbox, pick(world, w.VERIFIED), headers=prospeo.auth_headers("wrong"))
    assert answer.status == 200 and answer.json()["error_code"] == "INVALID_API_KEY"
    prospeo.ProspeoErrorBody.model_validate(answer.json())
    with pytest.raises(ProviderError) as caught:
        _parse(answer)
    assert caught.value.kind is ErrorKind.AUTH


def test_builder_needs_a_datapoint():
    with pytest.raises(ValueError):
        prospeo.build_enrich_person_request()
