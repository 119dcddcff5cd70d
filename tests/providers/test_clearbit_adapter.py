"""Clearbit combined lookup: prose-only docs; 202 queued, 404 unknown, errors by type."""

import base64

import pytest

from enrichment.providers import clearbit
from enrichment.providers.base import ErrorKind, ProviderError
from enrichment.sandbox import world as w
from enrichment.sandbox.vendors.base import stable_fraction
from tests.sandbox.support import KEY, send

HEADERS = clearbit.auth_headers(KEY)


def _lookup(sandbox, email, headers=HEADERS):
    return send(sandbox, "clearbit", clearbit.build_combined_find_request(email), headers=headers)


def _parse(answer):
    return clearbit.parse_combined_find_response(answer.status, answer.body)


def _queued(person):
    return stable_fraction("clearbit-queue", person.true_email) < 0.35


def _people(world, *, queued):
    return next(p for p in world.people if p.expected_verdict == w.VERIFIED
                and _queued(p) == queued)


def test_live_lookup_returns_person_and_company(sandbox, world):
    person = _people(world, queued=False)
    result = _parse(_lookup(sandbox, person.true_email))
    assert result.found
    assert result.person.name.fullName == person.full_name
    assert result.person.employment.domain == person.company.domain
    assert result.company.metrics.employees == person.company.headcount
    assert result.company.category.industry == person.company.industry


def test_a_queued_lookup_is_temporary_and_the_retry_answers(sandbox, world):
    person = _people(world, queued=True)
    first = _lookup(sandbox, person.true_email)
    assert first.status == 202
    with pytest.raises(ProviderError) as caught:
        _parse(first)
    assert caught.value.kind is ErrorKind.TEMPORARY and caught.value.retry_after
    assert _parse(_lookup(sandbox, person.true_email)).found


def test_unknown_and_objecting_people_are_misses(sandbox, world):
    assert not _parse(_lookup(sandbox, "personne@nowhere.example")).found
    objector = next(p for p in world.people if p.expected_verdict == w.DO_NOT_CONTACT)
    assert _lookup(sandbox, objector.true_email).status == 404


def test_basic_auth_with_the_key_as_user_is_accepted(sandbox, world):
    person = _people(world, queued=False)
    token = base64.b64encode(f"{KEY}:".encode()).decode()
    assert _lookup(sandbox, person.true_email,
                   headers={"Authorization": f"Basic {token}"}).status == 200


def test_live_errors_are_classified(sandbox):
    with pytest.raises(ProviderError) as caught:
        _parse(_lookup(sandbox, "a@b.example", headers=clearbit.auth_headers("wrong")))
    assert caught.value.kind is ErrorKind.AUTH
    invalid = _lookup(sandbox, "not-an-email")
    assert invalid.json() == {"error": {"type": "email_invalid", "message": "Invalid email."}}
    with pytest.raises(ProviderError) as caught:
        _parse(invalid)
    assert caught.value.kind is ErrorKind.PERMANENT
