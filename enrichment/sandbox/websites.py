"""The sandbox world's company websites: a home page, a team page, a contact page and the legal
notice, served at `/sites/<domain>/<path>` so that discovery can read them offline.

What each site shows is decided by the world (seeded): most list their people with their job
titles, some publish a few addresses (which teach the domain's pattern), some have no team page
at all, and a company without a website has none. Names are escaped like any real site's."""

from __future__ import annotations

import hashlib
from html import escape

from .protocol import Response, html_response
from .world import Company, Person, World

HTML = "text/html; charset=utf-8"


def _roll(domain: str, salt: str) -> float:
    digest = hashlib.sha256(f"{salt}:{domain}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def has_team_page(company: Company) -> bool:
    return bool(company.website) and _roll(company.domain, "team") < 0.75


def published(people: list[Person], company: Company) -> list[str]:
    """Up to three real addresses the site shows (on a third of the sites)."""
    if _roll(company.domain, "published") >= 0.35:
        return []
    return [p.true_email for p in people if p.true_email and not p.do_not_contact][:3]


def _page(title: str, body: str) -> Response:
    html = (
        f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{escape(title)}'
        f'</title></head><body><nav><a href="/">Accueil</a> '
        f'<a href="/notre-equipe">Notre équipe</a> <a href="/contact">Contact</a> '
        f'<a href="/mentions-legales">Mentions légales</a></nav>{body}</body></html>'
    )
    return Response(200, html.encode("utf-8"), content_type=HTML, outcome="ok")


def _team(company: Company, people: list[Person]) -> str:
    cards = "".join(
        f'<div class="membre"><h3>{escape(p.full_name)}</h3><p>{escape(p.job_title)}</p></div>'
        for p in people
    )
    return f"<h1>Notre équipe</h1><section>{cards}</section>"


def _contact(company: Company, people: list[Person]) -> str:
    links = "".join(
        f'<li><a href="mailto:{escape(e)}">{escape(e)}</a></li>' for e in published(people, company)
    )
    return f"<h1>Contact</h1><p>{escape(company.address)}</p><ul>{links}</ul>"


def _legal(company: Company, people: list[Person]) -> str:
    director = people[0].full_name if people else ""
    return (
        f"<h1>Mentions légales</h1><p>Éditeur : {escape(company.name)}, SIREN {company.siren}"
        f"<br>Directeur de la publication : {escape(director)}<br>Hébergeur : OVH</p>"
    )


def serve_site(world: World, domain: str, path: str) -> Response:
    """The page at `path` of the site of `domain`, or a 404 as a real server gives it."""
    company = world.find_company(domain=domain)
    not_found = html_response(404, "Not Found", outcome="not_found")
    if company is None or not company.website:
        return not_found
    people = [p for p in world.people if p.company is company]
    path = path.rstrip("/") or "/"
    if path == "/":
        return _page(
            company.name, f"<h1>{escape(company.name)}</h1><p>{escape(company.industry)}</p>"
        )
    if path in ("/notre-equipe", "/equipe", "/team") and has_team_page(company):
        return _page("Notre équipe", _team(company, people))
    if path == "/contact":
        return _page("Contact", _contact(company, people))
    if path == "/mentions-legales":
        return _page("Mentions légales", _legal(company, people))
    return not_found
