"""The sandbox's Dropcontact answers match the documented samples and read through the adapter."""

import time

import pytest
import requests

from enrichment.providers import dropcontact
from enrichment.providers.base import ErrorKind, ProviderError
from enrichment.sandbox import world as w

from .support import KEY, READY_AFTER, same_shape, sample_json, send

pytestmark = pytest.mark.sandbox

HEADERS = dropcontact.auth_headers(KEY)


def _person(world, verdict, *, french=None):
    return next(
        p for p in world.people
        if p.expected_verdict == verdict and (french is None or p.company.is_french == french)
    )


def _record(person, **extra):
    return dropcontact.InputRecord(
        first_name=person.first_name, last_name=person.last_name, company=person.company.name,
        **extra,
    )


def _run(sandbox, records, *, siren=True, language="fr"):
    submit = send(sandbox, "dropcontact",
                  dropcontact.build_submit_request(records, siren=siren, language=language),
                  headers=HEADERS)
    request_id = dropcontact.parse_submit_response(submit.status, submit.body).request_id
    time.sleep(READY_AFTER + 0.05)
    answer = send(sandbox, "dropcontact", dropcontact.build_poll_request(request_id),
                  headers=HEADERS)
    result = dropcontact.parse_poll_response(answer.status, answer.body)
    assert result.ready
    return result.records, answer.json()["data"]


def test_submit_answer_has_the_documented_shape_and_spends_a_credit_per_record(sandbox, world):
    records = [_record(p) for p in world.people[:3]]
    answer = send(sandbox, "dropcontact", dropcontact.build_submit_request(records),
                  headers=HEADERS)
    assert same_shape(answer.json(), sample_json("dropcontact-enrich_all-post-response.json")) == []
    result = dropcontact.parse_submit_response(answer.status, answer.body)
    assert len(result.request_id) == 15 and result.request_id.isalpha()
    assert result.credits_left == 100_000 - 3


def test_not_ready_and_unknown_ids_get_the_same_answer(sandbox, world):
    submit = send(sandbox, "dropcontact",
                  dropcontact.build_submit_request([_record(world.people[0])]), headers=HEADERS)
    request_id = submit.json()["request_id"]
    pending = send(sandbox, "dropcontact", dropcontact.build_poll_request(request_id),
                   headers=HEADERS)
    unknown = send(sandbox, "dropcontact", dropcontact.build_poll_request("zzzzzzzzzzzzzzz"),
                   headers=HEADERS)
    assert pending.status == unknown.status == 200
    assert pending.body == unknown.body
    assert pending.json() == {"error": False, "success": False,
                              "reason": "Request not ready yet, try again in 30 seconds"}
    result = dropcontact.parse_poll_response(pending.status, pending.body)
    assert not result.ready and result.reason.startswith(dropcontact.NOT_READY_REASON)


def test_another_keys_request_id_looks_unknown(world):
    from enrichment.sandbox.server import SandboxServer

    with SandboxServer(world, keys=("alice", "bob"), ready_after=0) as server:
        submit = send(server, "dropcontact",
                      dropcontact.build_submit_request([_record(world.people[0])]),
                      headers=dropcontact.auth_headers("alice"))
        poll = dropcontact.build_poll_request(submit.json()["request_id"])
        as_bob = send(server, "dropcontact", poll, headers=dropcontact.auth_headers("bob"))
        as_alice = send(server, "dropcontact", poll, headers=dropcontact.auth_headers("alice"))
    assert as_bob.json()["success"] is False
    assert as_alice.json()["success"] is True


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", {w.VERIFIED: "nominatif@pro", w.CATCH_ALL: "catch-all@pro",
                w.DO_NOT_CONTACT: "Ne_Pas_Contacter@pro"}),
        ("en", {w.VERIFIED: "nominative@pro", w.CATCH_ALL: "catch-all@pro",
                w.DO_NOT_CONTACT: "Do_Not_Contact@pro"}),
    ],
)
def test_qualifications_follow_the_verdict_and_the_language(sandbox, world, language, expected):
    people = [_person(world, verdict) for verdict in w.VERDICTS]
    records, raw = _run(sandbox, [_record(p) for p in people], language=language)
    by_verdict = dict(zip(w.VERDICTS, records, strict=True))
    for verdict, qualification in expected.items():
        person = people[w.VERDICTS.index(verdict)]
        assert [(c.email, c.qualification) for c in by_verdict[verdict].email] == [
            (person.pattern_email, qualification)]
    assert by_verdict[w.VERIFIED].best_email.parsed.is_verified_pro
    assert by_verdict[w.DO_NOT_CONTACT].is_do_not_contact
    assert by_verdict[w.CATCH_ALL].best_email.parsed.kind == "catch_all"
    assert by_verdict[w.MAILBOX_GONE].email == []
    assert by_verdict[w.NO_MAIL].email == []
    gone, no_mail = w.VERDICTS.index(w.MAILBOX_GONE), w.VERDICTS.index(w.NO_MAIL)
    assert raw[gone]["email"] == raw[no_mail]["email"] == []


def test_results_keep_input_order_custom_fields_and_unknown_records(sandbox, world):
    people = world.people[10:14]
    records = [_record(p, custom_fields={"prospect_id": str(i)}) for i, p in enumerate(people)]
    records.insert(2, dropcontact.InputRecord(first_name="Personne", last_name="Inconnue",
                                              custom_fields={"prospect_id": "x"}))
    parsed, raw = _run(sandbox, records)
    assert [r.custom_fields["prospect_id"] for r in parsed] == ["0", "1", "x", "2", "3"]
    assert [r.last_name for r in parsed] == [
        people[0].last_name, people[1].last_name, "Inconnue", people[2].last_name,
        people[3].last_name]
    assert raw[2] == {"first_name": "Personne", "last_name": "Inconnue", "email": [],
                      "custom_fields": {"prospect_id": "x"}}


def test_company_data_only_with_siren_and_for_french_companies(sandbox, world):
    french = _person(world, w.VERIFIED, french=True)
    foreign = _person(world, w.VERIFIED, french=False)
    (with_siren, abroad), _ = _run(sandbox, [_record(french), _record(foreign)], siren=True)
    company = french.company
    assert with_siren.siren.replace(" ", "") == company.siren
    assert with_siren.siret.replace(" ", "") == company.siret
    assert (with_siren.naf5_code, with_siren.naf5_des) == (company.naf, company.naf_label)
    assert with_siren.headcount == company.headcount
    assert with_siren.company_linkedin.startswith(company.linkedin_url)
    assert with_siren.job == french.job_title and with_siren.linkedin == french.linkedin_url
    assert abroad.siren == "" and abroad.naf5_code == ""
    (without_siren,), _ = _run(sandbox, [_record(french)], siren=False)
    assert without_siren.siren == "" and without_siren.best_email.email == french.true_email


def test_records_never_carry_undocumented_fields(sandbox, world):
    documented = set(sample_json("dropcontact-enrich_all-get-record-legacy.json"))
    people = [_person(world, verdict, french=True) for verdict in w.VERDICTS]
    inputs = [_record(p) for p in people]
    _, raw = _run(sandbox, inputs)
    for record, sent in zip(raw, inputs, strict=True):
        assert set(record) <= documented | set(sent.model_dump(exclude_defaults=True))


def test_finding_by_linkedin_only(sandbox, world):
    person = _person(world, w.VERIFIED)
    (record,), _ = _run(sandbox, [dropcontact.InputRecord(linkedin=person.linkedin_url)])
    assert (record.first_name, record.last_name) == (person.first_name, person.last_name)
    assert record.best_email.email == person.true_email


def test_force_results_returns_what_is_ready_and_says_in_progress(sandbox, world):
    submit = send(sandbox, "dropcontact", dropcontact.build_submit_request(
        [_record(p) for p in world.people[:4]]), headers=HEADERS)
    answer = requests.get(
        f"{sandbox.base_url('dropcontact')}/v1/enrich/all/{submit.json()['request_id']}",
        params={"forceResults": "true"}, headers=HEADERS, timeout=5)
    payload = answer.json()
    assert payload["status"] == "in_progress" and payload["success"] is True
    assert len(payload["data"]) < 4
    assert not dropcontact.parse_poll_response(answer.status_code, answer.content).ready


def test_documented_refusals(sandbox):
    url = f"{sandbox.base_url('dropcontact')}/v1/enrich/all"
    too_many = requests.post(url, json={"data": [{"first_name": "A"}] * 251}, headers=HEADERS,
                             timeout=5)
    assert too_many.status_code == 400
    assert too_many.json() == sample_json("dropcontact-error-reason.json")
    missing = requests.post(url, json={"data": []}, headers=HEADERS, timeout=5)
    assert missing.json()["reason"] == "Missing data in JSON"
    with pytest.raises(ProviderError) as caught:
        dropcontact.parse_submit_response(missing.status_code, missing.content)
    assert caught.value.kind is ErrorKind.PERMANENT
    unauthorized = requests.post(url, json={"data": [{"first_name": "A"}]},
                                 headers=dropcontact.auth_headers("nope"), timeout=5)
    with pytest.raises(ProviderError) as caught:
        dropcontact.parse_submit_response(unauthorized.status_code, unauthorized.content)
    assert caught.value.kind is ErrorKind.AUTH
    assert sandbox.stats()["credits_used"] == {}
