"""Apollo People API Search: the adapter against the sample reconstructed from the documented
fields (replayed by `responses`), then against the sandbox's imitation of it."""

import pytest
import requests
import responses

from enrichment.providers import apollo
from enrichment.providers.base import ErrorKind, ProviderError
from enrichment.sandbox import world as w
from prospects.normalize import fold
from tests.samples import sample_json
from tests.sandbox.support import KEY, pick, same_shape, send

SAMPLE = "apollo-people-api-search.RECONSTRUCTED.json"
URL = f"https://api.apollo.io{apollo.PEOPLE_SEARCH_PATH}"
HEADERS = apollo.auth_headers(KEY)


def _replayed(http, status, **answer):
    http.add(responses.POST, URL, status=status, **answer)
    request = apollo.build_people_search_request(domain="exemple.fr", per_page=10)
    got = requests.post(URL, params=request.params, headers=HEADERS, timeout=5)
    return apollo.parse_people_search_response(
        got.status_code,
        got.content,
        retry_after=float(got.headers["Retry-After"]) if "Retry-After" in got.headers else None,
    )


@pytest.fixture
def http():
    with responses.RequestsMock() as mock:
        yield mock


def test_filters_go_in_the_query_string_with_the_documented_spelling():
    request = apollo.build_people_search_request(domain="exemple.fr", page=2, per_page=50)
    assert (request.method, request.path, request.json) == ("POST", apollo.PEOPLE_SEARCH_PATH, None)
    assert request.params == {
        "q_organization_domains_list[]": ["exemple.fr"],
        "page": 2,
        "per_page": 50,
    }
    for wrong in ({"per_page": 101}, {"page": 0}, {"page": 501}):
        with pytest.raises(ValueError):
            apollo.build_people_search_request(domain="exemple.fr", **wrong)


def test_the_sample_reads_as_people_with_masked_surnames(http):
    page = _replayed(http, 200, json=sample_json(SAMPLE))
    assert page.found and page.total_entries == 232764882
    (person,) = page.people
    assert (person.id, person.first_name, person.title) == (
        "67bdafd0c3a4c50001bbd7c2",
        "Andrew",
        "Professor and Neuroscientist",
    )
    assert person.last_name is None and person.last_name_obfuscated == "Hu***n"
    assert person.has_email is True
    sent = http.calls[0].request
    assert sent.headers["X-Api-Key"] == KEY
    assert "q_organization_domains_list%5B%5D=exemple.fr" in sent.url


def test_an_empty_page_is_a_miss_not_an_error(http):
    page = _replayed(http, 200, json={"total_entries": 0, "people": []})
    assert not page.found and page.outcome == "not_found"


def test_an_answer_without_people_is_a_temporary_error(http):
    with pytest.raises(ProviderError) as caught:
        _replayed(http, 200, json={"pagination": {}})
    assert caught.value.kind is ErrorKind.TEMPORARY


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (
            401,
            {"error": "Invalid access credentials.", "error_code": "INVALID_API_KEY"},
            ErrorKind.AUTH,
        ),
        (
            403,
            {
                "error": "api/v1/mixed_people/api_search is not accessible with this api_key",
                "error_code": "API_INACCESSIBLE",
            },
            ErrorKind.AUTH,
        ),
        (
            429,
            {"message": "The maximum number of api calls allowed is reached."},
            ErrorKind.RATE_LIMITED,
        ),
        (422, {"error": "Invalid parameters"}, ErrorKind.PERMANENT),
    ],
)
def test_errors_are_classified(http, status, body, kind):
    headers = {"Retry-After": "7"} if status == 429 else {}
    with pytest.raises(ProviderError) as caught:
        _replayed(http, status, json=body, headers=headers)
    assert (caught.value.kind, caught.value.status) == (kind, status)
    if status == 429:
        assert caught.value.retry_after == 7


@pytest.mark.parametrize(
    ("masked", "surname", "fits"),
    [
        ("Hu***n", "Hudson", True),
        ("Hu***n", "Hughes", False),
        ("Le***e", "Lefèvre", True),
        ("Du***t", "Dupont", True),
        ("S***", "Smith", True),
        ("Hu***n", "Hun", False),  # too short for what the mask shows
    ],
)
def test_a_masked_surname_fits_the_names_it_may_hide(masked, surname, fits):
    person = apollo.ListedPerson(id="x", first_name="Éloïse", last_name_obfuscated=masked)
    assert person.may_be("eloise", surname, fold=fold) is fits
    assert not person.may_be("Marie", surname, fold=fold)


# --- The sandbox's People API Search --------------------------------------------------------


def _search(sandbox, domain, headers=HEADERS, **kwargs):
    request = apollo.build_people_search_request(domain=domain, **kwargs)
    answer = send(sandbox, "apollo", request, headers=headers)
    return answer, apollo.parse_people_search_response(answer.status, answer.body)


def test_live_search_lists_the_company_s_people_like_the_sample(sandbox, world):
    person = pick(world, w.VERIFIED)
    domain = person.company.domain
    answer, page = _search(sandbox, domain)
    assert same_shape(answer.json(), sample_json(SAMPLE)) == []
    colleagues = [p for p in world.people if p.company is person.company and not p.do_not_contact]
    assert page.total_entries == len(colleagues) == len(page.people)
    listed = {p.first_name: p for p in page.people}
    mine = listed[person.first_name]
    assert mine.last_name is None and mine.may_be(person.first_name, person.last_name, fold=fold)
    assert b"@" not in answer.body  # never an address, only `has_email`


def test_live_search_is_free_and_its_id_reveals_the_whole_person(sandbox, world):
    person = pick(world, w.VERIFIED)
    sandbox.set_faults("apollo", credits=1)
    try:
        _, page = _search(sandbox, person.company.domain)
        _, again = _search(sandbox, person.company.domain)  # free: still one credit left
        listed = next(p for p in again.people if p.first_name == person.first_name)
        answer = send(
            sandbox,
            "apollo",
            apollo.build_people_match_request(person_id=listed.id),
            headers=HEADERS,
        )
        match = apollo.parse_people_match_response(answer.status, answer.body)
        assert (match.person.first_name, match.person.last_name) == (
            person.first_name,
            person.last_name,
        )
        with pytest.raises(ProviderError) as caught:  # the reveal took the last credit
            answer = send(
                sandbox,
                "apollo",
                apollo.build_people_match_request(person_id=listed.id),
                headers=HEADERS,
            )
            apollo.parse_people_match_response(answer.status, answer.body)
        assert caught.value.kind is ErrorKind.QUOTA
    finally:
        sandbox.clear_faults("apollo")
    assert page.people


def test_live_search_errors(sandbox, world):
    domain = pick(world, w.VERIFIED).company.domain
    with pytest.raises(ProviderError) as caught:
        _search(sandbox, domain, headers=apollo.auth_headers("wrong"))
    assert caught.value.kind is ErrorKind.AUTH
    answer, page = _search(sandbox, "nobody-works-here.example")
    assert not page.found and answer.json()["total_entries"] == 0
