"""Firecrawl: the documented samples and the sandbox's answers read through the same models."""

import time

import pytest

from enrichment.providers import firecrawl
from enrichment.providers.base import ErrorKind, ProviderError
from tests.sandbox.support import KEY, READY_AFTER, same_shape, sample_json, sample_text, send

HEADERS = firecrawl.auth_headers(KEY)
SCHEMA = {"type": "object", "properties": {"company_name": {"type": "string"},
                                           "siren": {"type": "string"},
                                           "employees": {"type": "integer"},
                                           "ceo_name": {"type": "string"}}}


def test_start_sample_parses():
    result = firecrawl.parse_extract_response(200, sample_text("firecrawl-extract-post-v2.json"))
    assert result.id == "<string>" and result.invalidURLs == ["<string>"]


def test_status_sample_parses():
    result = firecrawl.parse_extract_status_response(
        200, sample_text("firecrawl-extract-get-v2.json"))
    assert result.ready and result.data == {} and result.tokensUsed == 123


def test_error_sample_is_an_auth_error_on_401():
    with pytest.raises(ProviderError) as caught:
        firecrawl.parse_extract_response(401, sample_text("firecrawl-error.json"))
    assert caught.value.kind is ErrorKind.AUTH
    assert str(caught.value) == "Unauthorized: Invalid token"


def test_live_job_runs_to_completion_with_the_sample_shapes(sandbox, world):
    company = next(c for c in world.companies if c.country == "FR")
    start = send(sandbox, "firecrawl",
                 firecrawl.build_extract_request([company.website, "not a url"], schema=SCHEMA),
                 headers=HEADERS)
    assert same_shape(start.json(), sample_json("firecrawl-extract-post-v2.json")) == []
    started = firecrawl.parse_extract_response(start.status, start.body)
    assert started.invalidURLs == ["not a url"]
    poll = firecrawl.build_extract_status_request(started.id)
    pending = send(sandbox, "firecrawl", poll, headers=HEADERS)
    status = firecrawl.parse_extract_status_response(pending.status, pending.body)
    assert status.status == "processing" and not status.ready
    time.sleep(READY_AFTER + 0.05)
    done = send(sandbox, "firecrawl", poll, headers=HEADERS)
    documented = sample_json("firecrawl-extract-get-v2.json")
    assert same_shape({**done.json(), "data": {}}, documented) == []
    result = firecrawl.parse_extract_status_response(done.status, done.body)
    assert result.ready
    assert result.data == {"company_name": company.name, "siren": company.siren,
                           "employees": company.headcount, "ceo_name": None}


def test_live_errors(sandbox):
    unknown = send(sandbox, "firecrawl", firecrawl.build_extract_status_request("nope"),
                   headers=HEADERS)
    with pytest.raises(ProviderError) as caught:
        firecrawl.parse_extract_status_response(unknown.status, unknown.body)
    assert caught.value.kind is ErrorKind.PERMANENT
    unauthorized = send(sandbox, "firecrawl", firecrawl.build_extract_request(["https://x.example"]),
                        headers=firecrawl.auth_headers("wrong"))
    assert unauthorized.json() == {"success": False, "error": "Unauthorized: Invalid token"}
    with pytest.raises(ProviderError) as caught:
        firecrawl.parse_extract_response(unauthorized.status, unauthorized.body)
    assert caught.value.kind is ErrorKind.AUTH


def test_builder_refuses_an_empty_job():
    with pytest.raises(ValueError):
        firecrawl.build_extract_request([])
