"""The sandbox world's company websites, read as discovery reads them."""

import requests

from enrichment.discovery.website import read_page
from enrichment.sandbox.websites import has_team_page, published


def get(sandbox, domain, path):
    return requests.get(f"{sandbox.url}/sites/{domain}{path}", timeout=5)


def test_a_team_page_names_the_company_people_with_their_titles(sandbox):
    world = sandbox.world
    company = next(c for c in world.companies if has_team_page(c))
    people = [p for p in world.people if p.company is company]
    page = get(sandbox, company.domain, "/notre-equipe")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    found = read_page(page.text, base_url=f"https://{company.domain}/", domain=company.domain)
    on_page = {(p.first_name, p.last_name) for p in found.people}
    expected = {(p.first_name, p.last_name) for p in people}
    # Every name the parser reads is one of the company's people, and it reads most of them.
    assert on_page <= expected
    assert len(on_page) >= 0.8 * len(expected)


def test_published_addresses_are_the_true_ones(sandbox):
    world = sandbox.world
    company = next(
        c for c in world.companies if published([p for p in world.people if p.company is c], c)
    )
    page = get(sandbox, company.domain, "/contact")
    found = read_page(page.text, base_url=f"https://{company.domain}/", domain=company.domain)
    truth = {p.true_email for p in world.people if p.company is company}
    assert found.emails and set(found.emails) <= truth


def test_unknown_sites_and_pages_are_404(sandbox):
    company = next(c for c in sandbox.world.companies if c.website)
    assert get(sandbox, "nowhere.example", "/").status_code == 404
    assert get(sandbox, company.domain, "/admin").status_code == 404
    assert get(sandbox, company.domain, "/mentions-legales").status_code == 200
