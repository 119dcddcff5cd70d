"""The Dropcontact adapter reads every documented sample, in both qualification vocabularies."""

import json

import pytest

from enrichment.providers import dropcontact
from enrichment.providers.base import ErrorKind, ProviderError
from tests.samples import sample_json, sample_text


def test_submit_answer_sample_gives_the_request_id():
    result = dropcontact.parse_submit_response(
        200, sample_text("dropcontact-enrich_all-post-response.json")
    )
    assert result.request_id == "qzmxkpvlrtdnhwa"
    assert result.credits_left == 15277


def test_legacy_record_sample_parses_with_its_qualified_emails():
    record = sample_json("dropcontact-enrich_all-get-record-legacy.json")
    answer = dropcontact.parse_poll_response(200, json.dumps({"success": True, "data": [record]}))
    assert answer.ready
    (parsed,) = answer.records
    assert parsed.best_email.email == "denis@companyTest.com"
    assert parsed.best_email.parsed.is_verified_pro
    assert parsed.job == "Customer Success Manager"
    assert parsed.linkedin == "https://fr.linkedin.com/in/denis.dupont"
    assert parsed.siren == "500 500 500"
    assert parsed.headcount == 202
    assert parsed.naf5_des == "Culture de la vigne"
    assert parsed.custom_fields["your_custom_id"] == "18181818181818"


def test_a_single_record_object_is_accepted_as_a_list_of_one():
    record = sample_json("dropcontact-enrich_all-get-record-legacy.json")
    answer = dropcontact.parse_poll_response(200, json.dumps({"success": True, "data": record}))
    assert [r.last_name for r in answer.records] == ["Dupont"]


def test_not_ready_is_a_200_with_success_false():
    body = json.dumps(
        {"success": False, "reason": "Request not ready yet, try again in 30 seconds"}
    )
    answer = dropcontact.parse_poll_response(200, body)
    assert not answer.ready
    assert "not ready" in answer.reason


def test_forced_results_in_progress_is_not_ready():
    answer = dropcontact.parse_poll_response(200, '{"success": true, "status": "in_progress"}')
    assert not answer.ready


def test_error_reason_sample_is_a_permanent_error():
    with pytest.raises(ProviderError) as caught:
        dropcontact.parse_submit_response(400, sample_text("dropcontact-error-reason.json"))
    assert caught.value.kind == ErrorKind.PERMANENT
    assert "250 records" in str(caught.value)


def test_error_reason_with_http_200_is_still_an_error():
    with pytest.raises(ProviderError):
        dropcontact.parse_submit_response(200, sample_text("dropcontact-error-reason.json"))


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (404, ErrorKind.PERMANENT),
        (422, ErrorKind.PERMANENT),
        (500, ErrorKind.TEMPORARY),
        (401, ErrorKind.AUTH),
        (429, ErrorKind.RATE_LIMITED),
    ],
)
def test_error_detail_sample_is_classified_by_status(status, kind):
    with pytest.raises(ProviderError) as caught:
        dropcontact.parse_poll_response(
            status, sample_text("dropcontact-error-detail.json"), retry_after=3
        )
    assert caught.value.kind == kind
    assert caught.value.retry_after == 3


@pytest.mark.parametrize("body", ["<html><body>502 Bad Gateway</body></html>", "{not json", ""])
def test_garbage_answers_are_temporary_errors(body):
    with pytest.raises(ProviderError) as caught:
        dropcontact.parse_poll_response(502 if body.startswith("<") else 200, body)
    assert caught.value.kind == ErrorKind.TEMPORARY


@pytest.mark.parametrize(
    ("raw", "verified", "do_not_contact"),
    [
        ("nominative@pro", True, False),
        ("nominatif@pro", True, False),
        ("Nominatif@Pro", True, False),
        ("nominative@perso", False, False),
        ("catch_all@pro", False, False),
        ("catch-all@pro", False, False),
        ("non_confirm@pro", False, False),
        ("generic@pro", False, False),
        ("generique@pro", False, False),
        ("invalid@invalid", False, False),
        ("invalide@domaine invalide", False, False),
        ("non_validé@pro", False, False),
        ("Ne_Pas_Contacter@pro", False, True),
        ("Do_Not_Contact@pro", False, True),
        ("", False, False),
    ],
)
def test_both_qualification_vocabularies(raw, verified, do_not_contact):
    parsed = dropcontact.parse_qualification(raw)
    assert parsed.is_verified_pro is verified
    assert parsed.is_do_not_contact is do_not_contact


def test_submit_request_carries_records_siren_and_language():
    request = dropcontact.build_submit_request(
        [dropcontact.InputRecord(first_name="Éloïse", last_name="Lefèvre", company="Acme")],
        language="fr",
    )
    assert request.method == "POST"
    assert request.path == "/v1/enrich/all"
    assert request.json == {
        "data": [{"first_name": "Éloïse", "last_name": "Lefèvre", "company": "Acme"}],
        "siren": True,
        "language": "fr",
    }
    assert dropcontact.auth_headers("k") == {"X-Access-Token": "k"}


def test_more_than_250_records_are_refused_before_sending():
    with pytest.raises(ValueError):
        dropcontact.build_submit_request([dropcontact.InputRecord(first_name="a")] * 251)
