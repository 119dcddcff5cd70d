"""AI Ark: Spring-style pages per the docs' prose, read through the adapter's models."""

import pytest

from enrichment.providers import aiark
from enrichment.providers.base import ErrorKind, ProviderError
from enrichment.sandbox import world as w
from tests.sandbox.support import KEY, pick, send

HEADERS = aiark.auth_headers(KEY)
PAGE_KEYS = {"content", "pageable", "totalElements", "totalPages", "first", "last", "empty"}


def _call(sandbox, request, headers=HEADERS):
    return send(sandbox, "aiark", request, headers=headers)


def test_live_company_search_by_domain_and_by_name(sandbox, world):
    company = world.companies[5]
    answer = _call(sandbox, aiark.build_company_search_request(domain=company.domain))
    assert answer.json().keys() >= PAGE_KEYS
    page = aiark.parse_company_search_response(answer.status, answer.body)
    assert page.totalElements == 1 and page.totalPages == 1
    (found,) = page.content
    assert (found.summary.name, found.links.domain, found.headcount) == (
        company.name, company.domain, company.headcount)
    by_name = _call(sandbox, aiark.build_company_search_request(name=company.name.upper()))
    assert aiark.parse_company_search_response(by_name.status, by_name.body).content[0].id == (
        found.id)


def test_live_people_search_pages_through_a_company(sandbox, world):
    company = world.companies[0]
    staff = [p for p in world.people if p.company is company and not p.do_not_contact]
    answer = _call(sandbox, aiark.build_people_search_request(domain=company.domain, size=2))
    page = aiark.parse_people_search_response(answer.status, answer.body)
    assert page.totalElements == len(staff)
    assert [p.profile.full_name for p in page.content] == [p.full_name for p in staff[:2]]
    assert page.trackId
    assert all(person.emails == [] for person in page.content)


def test_live_single_export_gives_the_email_or_a_miss(sandbox, world):
    person = pick(world, w.VERIFIED)
    answer = _call(sandbox, aiark.build_export_single_request(linkedin_url=person.linkedin_url))
    result = aiark.parse_export_single_response(answer.status, answer.body)
    assert result.found and result.person.linkedin_url == person.linkedin_url
    assert [(e.address, e.status) for e in result.person.emails] == [(person.true_email, "VALID")]
    for verdict in (w.MAILBOX_GONE, w.DO_NOT_CONTACT):
        other = pick(world, verdict)
        miss = _call(sandbox, aiark.build_export_single_request(linkedin_url=other.linkedin_url))
        assert miss.status == 404
        assert not aiark.parse_export_single_response(miss.status, miss.body).found


def test_live_errors_are_classified(sandbox):
    answer = _call(sandbox, aiark.build_company_search_request(domain="x.example"),
                   headers=aiark.auth_headers("wrong"))
    assert answer.json()["status"] == 401
    with pytest.raises(ProviderError) as caught:
        aiark.parse_company_search_response(answer.status, answer.body)
    assert caught.value.kind is ErrorKind.AUTH
    sandbox.set_faults("aiark", rate_limit=1)
    statuses = [_call(sandbox, aiark.build_company_search_request(domain="x.example")).status
                for _ in range(3)]
    assert statuses == [200, 429, 429]


def test_builders_check_paging_and_identifiers():
    with pytest.raises(ValueError):
        aiark.build_company_search_request(size=101)
    with pytest.raises(ValueError):
        aiark.build_export_single_request()
