"""Fault injection does what it says, from Python and through the control endpoint."""

import json
import time

import pytest
import requests

from enrichment.providers import dropcontact
from enrichment.providers.base import ErrorKind, ProviderError

from .support import KEY, send

pytestmark = pytest.mark.sandbox

DROPCONTACT = {"X-Access-Token": KEY}


def _submit(sandbox, records=1):
    request = dropcontact.build_submit_request(
        [dropcontact.InputRecord(first_name="Éloïse", last_name="Lefèvre",
                                 company="Brumaire Studio")] * records
    )
    return send(sandbox, "dropcontact", request, headers=DROPCONTACT, timeout=5)


def _verify(sandbox, timeout=5.0):
    return requests.get(f"{sandbox.url}/hunter/v2/email-verifier",
                        params={"email": "probe@nowhere.example", "api_key": KEY}, timeout=timeout)


def test_every_request_fails_at_rate_one(sandbox):
    sandbox.set_faults("dropcontact", error_rate=1.0, kinds=["500"])
    answers = [_submit(sandbox) for _ in range(5)]
    assert [a.status for a in answers] == [500] * 5
    assert answers[0].json() == {"detail": "Internal Server Error"}
    assert sandbox.stats()["counts"]["dropcontact"]["POST /v1/enrich/all"] == {"fault:500": 5}


def test_error_rate_is_roughly_honoured(sandbox):
    sandbox.set_faults("hunter", error_rate=0.3, kinds=["503"])
    statuses = [_verify(sandbox).status_code for _ in range(200)]
    assert 30 <= statuses.count(503) <= 90
    assert statuses.count(200) == 200 - statuses.count(503)


def test_429_uses_the_vendor_answer_and_retry_after(sandbox):
    sandbox.set_faults("*", error_rate=1.0, kinds=["429"], retry_after=7)
    answer = _submit(sandbox)
    assert answer.status == 429 and answer.headers["Retry-After"] == "7"
    with pytest.raises(ProviderError) as caught:
        dropcontact.parse_submit_response(answer.status, answer.body, retry_after=7)
    assert caught.value.kind is ErrorKind.RATE_LIMITED
    # Hunter signals its rate limit with 403, not 429.
    hunter = _verify(sandbox)
    assert hunter.status_code == 403 and hunter.headers["Retry-After"] == "7"
    assert hunter.json()["errors"][0]["code"] == 403


def test_a_hang_is_bounded_and_times_the_client_out(sandbox):
    sandbox.set_faults("hunter", error_rate=1.0, kinds=["timeout"], hang_seconds=0.6)
    with pytest.raises(requests.Timeout):
        _verify(sandbox, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        _verify(sandbox, timeout=5)
    assert 0.5 <= time.monotonic() - started < 3
    assert sandbox.stats()["counts"]["hunter"]["GET /v2/email-verifier"]["fault:timeout"] == 2


def test_reset_closes_the_connection_abruptly(sandbox):
    sandbox.set_faults("hunter", error_rate=1.0, kinds=["reset"])
    with pytest.raises(requests.ConnectionError):
        _verify(sandbox)


def test_malformed_json_is_a_temporary_error_for_adapters(sandbox):
    sandbox.set_faults("dropcontact", error_rate=1.0, kinds=["malformed"])
    answer = _submit(sandbox)
    assert answer.status == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.body)
    with pytest.raises(ProviderError) as caught:
        dropcontact.parse_submit_response(answer.status, answer.body)
    assert caught.value.kind is ErrorKind.TEMPORARY


def test_html_error_page(sandbox):
    sandbox.set_faults("dropcontact", error_rate=1.0, kinds=["html"])
    answer = _submit(sandbox)
    assert answer.status == 502
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.body.startswith(b"<!DOCTYPE html>")


def test_wrong_schema_is_valid_json_that_adapters_reject(sandbox):
    sandbox.set_faults("dropcontact", error_rate=1.0, kinds=["schema"])
    answer = _submit(sandbox)
    assert answer.status == 200 and isinstance(answer.json(), dict)
    with pytest.raises(ProviderError) as caught:
        dropcontact.parse_submit_response(answer.status, answer.body)
    assert caught.value.kind is ErrorKind.TEMPORARY


def test_latency_is_added_to_every_answer(sandbox):
    sandbox.set_faults("hunter", latency_ms=250)
    started = time.monotonic()
    assert _verify(sandbox).status_code == 200
    assert time.monotonic() - started >= 0.25


def test_outage_answers_503_until_cleared(sandbox):
    sandbox.set_faults("hunter", outage=True)
    assert _verify(sandbox).status_code == 503
    sandbox.set_faults("hunter", outage=False)
    assert _verify(sandbox).status_code == 200


def test_a_scheduled_outage_starts_and_ends_by_itself(sandbox):
    sandbox.set_faults("hunter", outage_windows=[[0.3, 0.8]])
    assert _verify(sandbox).status_code == 200
    time.sleep(0.4)
    assert _verify(sandbox).status_code == 503
    time.sleep(0.5)
    assert _verify(sandbox).status_code == 200


def test_rate_limit_answers_429_past_the_rate_per_key(sandbox):
    sandbox.set_faults("dropcontact", rate_limit=3)
    statuses = [_submit(sandbox).status for _ in range(6)]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [429, 429, 429]
    assert sandbox.calls[-1].outcome == "rate_limited"


def test_dropcontact_enforces_its_documented_60_per_second(sandbox):
    with requests.Session() as session:
        statuses = [
            session.get(f"{sandbox.url}/dropcontact/v1/enrich/all/unknown",
                        headers=DROPCONTACT, timeout=5).status_code
            for _ in range(75)
        ]
    assert statuses.count(429) >= 10
    assert statuses[:60] == [200] * 60


def test_credit_balance_can_be_lowered_to_provoke_quota_errors(sandbox):
    sandbox.set_faults("dropcontact", credits=2)
    answer = _submit(sandbox, records=3)
    assert answer.status == 403
    assert answer.json()["success"] is False
    assert _submit(sandbox, records=2).json()["credits_left"] == 0


def test_a_vendor_breaks_mid_job_through_the_control_endpoint(sandbox):
    request_id = _submit(sandbox).json()["request_id"]
    control = f"{sandbox.url}/_sandbox/faults"
    broken = requests.post(control, json={"vendor": "dropcontact", "error_rate": 1.0,
                                          "kinds": ["500"]}, timeout=5)
    assert broken.json()["faults"]["dropcontact"]["rates"] == {"500": 1.0}
    poll = dropcontact.build_poll_request(request_id)
    assert send(sandbox, "dropcontact", poll, headers=DROPCONTACT).status == 500
    requests.post(control, json={"vendor": "dropcontact", "clear": True}, timeout=5)
    time.sleep(0.35)
    answer = send(sandbox, "dropcontact", poll, headers=DROPCONTACT)
    assert dropcontact.parse_poll_response(answer.status, answer.body).ready


def test_control_endpoint_rejects_bad_fault_specs(sandbox):
    control = f"{sandbox.url}/_sandbox/faults"
    assert requests.post(control, json={"error_rate": 1}, timeout=5).status_code == 400
    assert requests.post(control, json={"vendor": "nobody", "outage": True},
                         timeout=5).status_code == 400
    bad_kind = requests.post(control, json={"vendor": "hunter", "error_rate": 1,
                                            "kinds": ["teapot"]}, timeout=5)
    assert bad_kind.status_code == 400 and "teapot" in bad_kind.json()["error"]


def test_reset_clears_faults(sandbox):
    sandbox.set_faults("hunter", outage=True)
    requests.post(f"{sandbox.url}/_sandbox/reset", timeout=5)
    assert _verify(sandbox).status_code == 200
