"""The people a company's pages name: never a heading, a service or the company itself; one
person named on several pages keeps the team page's job title; the most trusted are added
first, so the company's quota never drops the director of publication."""

import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enrichment.discovery import contacts
from enrichment.discovery.company import discover_company, read_site
from enrichment.discovery.website import read_page
from enrichment.models import DiscoveredContact
from enrichment.sandbox.server import start_sandbox
from enrichment.sandbox.websites import has_team_page
from prospects import normalize
from tests.factories import WorkspaceFactory

BASE = "https://www.alpha.fr/"
HOME = (
    "<html><head><title>Alpha Conseil | Accueil</title></head><body>"
    '<h1>Alpha Conseil</h1><p>Marketing et publicité</p><a href="/equipe">Notre équipe</a> '
    '<a href="/mentions-legales">Mentions légales</a></body></html>'
)
TEAM = (
    "<h1>Notre équipe</h1>"
    "<div><h3>Hélène Ménard</h3><p>Directrice commerciale</p></div>"
    "<div><h3>Paul Girard</h3><p>Chef de projet</p></div>"
    "<div><h3>Nos Clients</h3><p>Responsable grands comptes</p></div>"
    "<div><h3>Service Client</h3><p>Chargée de clientèle</p></div>"
    "<div><h3>Jeanne Martin</h3><p>Responsable partenariats</p></div>"
)
LEGAL = "<h1>Mentions légales</h1><p>Directeur de la publication : Jeanne Martin</p>"


class Pages(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "Site"

    def log_message(self, format, *args):
        return

    def do_GET(self):
        path = "/" + self.path.split("/", 3)[3] if self.path.count("/") >= 3 else "/"
        page = self.server.pages.get(path.rstrip("/") or "/")
        body = (page or "Not Found").encode()
        self.send_response(200 if page else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Site(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, pages):
        super().__init__(("127.0.0.1", 0), Pages)
        self.pages = pages


@pytest.fixture
def alpha(settings):
    """alpha.fr's site: home, team page and legal notice, served at /sites/alpha.fr/."""
    server = Site({"/": HOME, "/equipe": TEAM, "/mentions-legales": LEGAL})
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    settings.SOURCIER_DISCOVERY_SITE_URL = f"http://127.0.0.1:{server.server_port}/sites/{{domain}}"
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def named(people):
    return {f"{p.first_name} {p.last_name}": p for p in people}


def test_headings_services_and_the_company_are_nobody(alpha):
    people = named(read_site("alpha.fr").people.values())
    assert set(people) == {"Hélène Ménard", "Paul Girard", "Jeanne Martin"}


def test_the_legal_role_never_replaces_the_team_page_s_job_title(alpha):
    people = named(read_site("alpha.fr").people.values())
    jeanne = people["Jeanne Martin"]
    assert (jeanne.job_title, jeanne.how, jeanne.confidence) == (
        "Responsable partenariats",
        "legal_notice",
        75,
    )
    # On one page too; and the legal role still fills a title nobody gave.
    page = read_page(TEAM + LEGAL, base_url=BASE, domain="alpha.fr")
    assert named(page.people)["Jeanne Martin"].job_title == "Responsable partenariats"
    alone = read_page(LEGAL, base_url=BASE, domain="alpha.fr")
    assert named(alone.people)["Jeanne Martin"].job_title == "Directeur de la publication"


def test_the_most_trusted_people_are_added_first(alpha, mail_sandbox, settings):
    settings.SOURCIER_DISCOVERY_QUOTAS = {"contacts_per_company": 1}
    workspace = WorkspaceFactory()
    run = discover_company(workspace, "alpha.fr", smtp=False)
    assert run.added == 1 and run.refused_code == "discovery_quota_company"
    contact = DiscoveredContact.objects.for_workspace(workspace).get()
    assert (contact.first_name, contact.last_name, contact.job_title) == (
        "Jeanne",
        "Martin",
        "Responsable partenariats",
    )


def test_rejected_contacts_leave_room_in_the_company_s_quota(db, settings):
    settings.SOURCIER_DISCOVERY_QUOTAS = {"contacts_per_company": 1}
    workspace = WorkspaceFactory()
    junk, _created = contacts.add_contact(
        workspace, first_name="Nos", last_name="Clients", domain="alpha.fr", method="website"
    )
    with pytest.raises(contacts.DiscoveryRefused):
        contacts.add_contact(
            workspace, first_name="Jeanne", last_name="Martin", domain="alpha.fr", method="website"
        )
    contacts.reject_contacts(workspace, [junk.pk])
    jeanne, created = contacts.add_contact(
        workspace, first_name="Jeanne", last_name="Martin", domain="alpha.fr", method="website"
    )
    assert created and jeanne.last_name == "Martin"


NOT_NAMES = [
    "Clients", "Client", "Service", "Services", "Équipe", "Contact", "Nous", "Nos", "Mentions",
    "Société", "Industries", "Groupe", "SAS", "SARL", "SA", "EURL", "Holding", "Solutions",
]
capitalised = st.from_regex(r"[A-ZÉ][a-zéèëï]{2,9}", fullmatch=True)
titles = st.sampled_from(["Directrice commerciale", "Responsable marketing", "CEO"])
name_words = st.sampled_from(
    ["Jeanne", "Martin", "Hélène", "Ménard", "Paul", "Girard", "Anaïs", "Lefèvre", "Éloïse", "Roy"]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(capitalised, min_size=1, max_size=3), st.sampled_from(NOT_NAMES), titles)
def test_a_heading_or_a_service_written_like_a_name_is_never_a_person(words, word, title):
    for at in range(len(words) + 1):
        text = " ".join([*words[:at], word, *words[at:]])
        page = f"<div><h3>{text}</h3><p>{title}</p></div>"
        assert read_page(page, base_url=BASE, domain="alpha.fr").people == []


@settings(max_examples=150, deadline=None)
@given(st.lists(name_words, min_size=2, max_size=3), titles, st.sampled_from(["title", "h1"]))
def test_the_page_s_title_and_h1_are_never_a_person(words, title, tag):
    text = " ".join(words)
    page = f"<html><head><{tag}>{text}</{tag}></head><body><{tag}>{text}</{tag}><p>{title}</p>"
    assert read_page(page, base_url=BASE, domain="alpha.fr").people == []
    # The same name in a card is a person.
    card = f"<h1>Accueil</h1><div><h3>{text}</h3><p>{title}</p></div>"
    assert len(read_page(card, base_url=BASE, domain="alpha.fr").people) == 1


@pytest.fixture(scope="module")
def sandbox_sites(world):
    with start_sandbox(seed=world.seed, size=world.size) as server:
        yield server


def test_the_sandbox_s_sites_name_only_their_people_with_their_titles(
    sandbox_sites, world, settings
):
    settings.SOURCIER_DISCOVERY_SITE_URL = f"{sandbox_sites.url}/sites/{{domain}}"
    companies = [c for c in world.companies if c.website]
    assert companies
    for company in companies:
        staff = {
            normalize.fold(p.full_name): p for p in world.people if p.company is company
        }
        found = read_site(company.domain, company_name=company.name).people.values()
        for person in found:
            name = normalize.fold(f"{person.first_name} {person.last_name}")
            assert name in staff, (company.name, name)
            if has_team_page(company):
                assert person.job_title == staff[name].job_title


@pytest.mark.parametrize(
    ("html", "name"),
    [
        # schema.org: the outermost organisation, whatever else the graph holds.
        (
            '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": ['
            '{"@type": "WebSite", "publisher": {"@type": ["Organization", "Corporation"],'
            ' "name": "Boréal  Industries"}}, {"@type": "Person", "name": "Jeanne Martin"}]}'
            "</script>",
            "Boréal Industries",
        ),
        # Another company the page mentions (a review's author) is not the site's.
        (
            '<script type="application/ld+json">{"@type": "WebPage", "review": {"@type": '
            '"Review", "author": {"@type": "Organization", "name": "Trustpilot"}}}</script>'
            '<script type="application/ld+json">{"@type": "Organization", "name": "Alpha"}'
            "</script>",
            "Alpha",
        ),
        (
            '<script type="application/ld+json">{"@type": "WebPage", "review": {"@type": '
            '"Review", "author": {"@type": "Organization", "name": "Trustpilot"}}}</script>',
            "",
        ),
        ('<meta property="og:site_name" content="Alpha Conseil">', "Alpha Conseil"),
        ('<meta property="og:site_name" content="Accueil">', ""),
        ('<meta property="og:site_name" content="=HYPERLINK(">', ""),
        ('<meta property="og:site_name" content="Alpha <b>Conseil</b>">', ""),
        ("<p><strong>Éditeur :</strong> Alpha Conseil, SAS</p>", "Alpha Conseil"),
        (
            "<p>Éditeur du site : Alpha Conseil SAS, au capital de 10 000 €<br>"
            "Directeur de la publication : Jeanne Martin</p>",
            "Alpha Conseil SAS",
        ),
        ("<p>Raison sociale : Fromagerie Dupont (SARL)</p>", "Fromagerie Dupont"),
        ("<p>Dénomination sociale: L’Atelier d’Hélène</p>", "L’Atelier d’Hélène"),
        # Nothing that names the company: no guess from the title.
        ("<title>Accueil | Alpha</title><h1>Bienvenue</h1>", ""),
        ("<p>Éditeur : 12345</p>", ""),
        ("<p>Éditeur : " + "x" * 500 + "</p>", ""),
        ('<script type="application/ld+json">' + "[" * 50_000 + "]" * 50_000 + "</script>", ""),
        ('<script type="application/ld+json">{"@type": [{}], "name": "X"}</script>', ""),
    ],
)
def test_the_company_s_own_name_is_read_from_its_pages(html, name):
    page = read_page(f"<html><head>{html}</head><body>{html}</body></html>", base_url=BASE,
                     domain="alpha.fr")
    assert page.company_name == name


def test_approving_a_contact_of_an_unknown_company_names_it_as_its_site_does(
    alpha, mail_sandbox, settings
):
    alpha.pages["/mentions-legales"] = (
        "<h1>Mentions légales</h1><p>Éditeur : Alpha Conseil SAS, 12 rue de la Paix, Lyon<br>"
        "Directeur de la publication : Jeanne Martin</p>"
    )
    workspace = WorkspaceFactory()
    discover_company(workspace, "alpha.fr", smtp=False)
    contact = DiscoveredContact.objects.for_workspace(workspace).get(last_name="Girard")
    assert contact.company_name == "Alpha Conseil SAS"
    contacts.approve_contacts(workspace, [contact.pk])
    contact.refresh_from_db()
    company = contact.prospect.company
    assert (company.name, company.domain) == ("Alpha Conseil SAS", "alpha.fr")


def test_a_site_name_another_company_of_the_workspace_has_is_not_given_this_domain(
    alpha, mail_sandbox, settings
):
    """A bare company of the same name (no domain) may be another one: approval creates the
    domain's own company, named after its domain, and leaves the bare one as it was."""
    from prospects.models import Company

    alpha.pages["/mentions-legales"] = "<p>Éditeur : Alpha Conseil SAS</p>"
    workspace = WorkspaceFactory()
    bare = Company.objects.create(workspace=workspace, name="ALPHA CONSEIL SAS")
    discover_company(workspace, "alpha.fr", smtp=False)
    contact = DiscoveredContact.objects.for_workspace(workspace).get(last_name="Girard")
    contacts.approve_contacts(workspace, [contact.pk])
    contact.refresh_from_db()
    bare.refresh_from_db()
    assert bare.domain == ""
    assert contact.prospect.company_id != bare.pk
    assert contact.prospect.company.domain == "alpha.fr"


HOSTILE_PAGES = {
    # A long run of spaces after a would-be address's name, as an attacker's page would hold.
    "spaces": "<p>Contact : jean" + " " * 300_000 + "x</p>",
    "letters": "<p>" + "a" * 1_000_000 + "</p>",
    "obfuscated": "<p>" + "jean at " * 100_000 + "</p>",
    "labels": "<p>jean@" + "b" * 500_000 + "." + "c" * 500_000 + "</p>",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_PAGES))
def test_a_hostile_page_is_read_in_one_pass_not_one_per_character(kind):
    # The address search tries each word once: reading these took minutes to hours before.
    # The alarm only stops a hang (the page reads in well under a second).
    def hung(*_args):
        raise TimeoutError(f"{kind}: still reading after 60 s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        found = read_page(HOSTILE_PAGES[kind], base_url="https://alpha.fr/", domain="alpha.fr")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert found.emails == []


def test_addresses_written_with_spaces_or_in_words_are_still_read():
    html = (
        "<p>Écrivez à jeanne.martin  @  alpha.fr ou paul [at] alpha [dot] fr, "
        "voire marc\n arobase\n alpha\n dot\n fr ; pas " + "x" * 70 + "@alpha.fr</p>"
    )
    found = read_page(html, base_url="https://alpha.fr/", domain="alpha.fr")
    assert found.emails == ["jeanne.martin@alpha.fr", "paul@alpha.fr", "marc@alpha.fr"]
