"""Reading a company's pages for the people it names and the addresses it publishes."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from enrichment.discovery.website import pages_to_visit, read_page, split_name

BASE = "https://www.alpha.fr/"

TEAM = """
<html><body>
<nav><a href="/notre-equipe">Notre équipe</a> <a href="https://evil.example/team">x</a>
<a href="/mentions-legales">Mentions légales</a> <a href="mailto:contact@alpha.fr">Écrire</a></nav>
<div class="card"><h3>Hélène Ménard</h3><p>Directrice commerciale</p></div>
<div class="card"><h3>Jean-Pierre de La Fontaine</h3><p>Co-fondateur &amp; CEO</p></div>
<div class="card"><h3>Directrice Commerciale</h3><p>Responsable RH</p></div>
<div class="card"><h3>Bienvenue chez nous</h3><p>Lorem ipsum</p></div>
<p>Écrivez à helene.menard [at] alpha.fr ou à jp.delafontaine@alpha.fr, pas à x@gmail.com</p>
<script>var people = "Faux Nom"; document.write("Directeur")</script>
</body></html>
"""

LEGAL = """
<h1>Mentions légales</h1>
<p>Éditeur : Alpha SAS, capital 10 000 €<br>
Directeur de la publication : MARTIN Jeanne, Présidente<br>
Hébergeur : OVH</p>
"""

SCHEMA = {
    "@context": "https://schema.org",
    "@type": "Organization",
    "employee": [
        {"@type": "Person", "name": "Amadou N'Diaye", "jobTitle": "Head of Sales"},
        {"@type": "Person", "name": "<script>alert(1)</script>", "jobTitle": "x"},
    ],
}


def names(findings):
    return {(p.first_name, p.last_name, p.how) for p in findings.people}


def test_team_cards_give_names_and_titles():
    found = read_page(TEAM, base_url=BASE, domain="alpha.fr")
    assert names(found) == {
        ("Hélène", "Ménard", "team_card"),
        ("Jean-Pierre", "de La Fontaine", "team_card"),
    }
    titles = {p.last_name: p.job_title for p in found.people}
    assert titles["Ménard"] == "Directrice commerciale"


def test_published_addresses_on_the_domain_only_including_at_spellings():
    found = read_page(TEAM, base_url=BASE, domain="alpha.fr")
    assert found.emails == [
        "contact@alpha.fr",
        "helene.menard@alpha.fr",
        "jp.delafontaine@alpha.fr",
    ]


def test_only_same_site_links_worth_a_visit():
    found = read_page(TEAM, base_url=BASE, domain="alpha.fr")
    assert found.links == ["/notre-equipe", "/mentions-legales"]
    assert pages_to_visit(found.links)[:3] == ["/notre-equipe", "/mentions-legales", "/equipe"]


def test_the_legal_notice_names_the_director_of_publication():
    found = read_page(LEGAL, base_url=BASE, domain="alpha.fr")
    assert names(found) == {("Jeanne", "Martin", "legal_notice")}


def test_schema_org_people_are_read_and_hostile_names_dropped():
    # Pages escape "</" inside JSON-LD, as a browser would end the script there otherwise.
    data = json.dumps(SCHEMA).replace("</", "<\\/")
    page = f'<script type="application/ld+json">{data}</script>'
    found = read_page(page, base_url=BASE, domain="alpha.fr")
    assert names(found) == {("Amadou", "N'Diaye", "schema")}
    assert found.people[0].job_title == "Head of Sales"


def test_broken_html_and_json_never_raise():
    junk = '<div><h3>Ana Roy<p>Gérante</div></p><script type="application/ld+json">{oops'
    found = read_page(junk, base_url=BASE, domain="alpha.fr")
    assert ("Ana", "Roy", "team_card") in names(found)


def test_split_name_refuses_what_is_not_a_name():
    assert split_name("Jean-Pierre de La Fontaine") == ("Jean-Pierre", "de La Fontaine")
    assert split_name("MARTIN Jeanne") == ("Jeanne", "Martin")
    for text in ("Contact", "Nos 12 experts", "Bienvenue chez nous aujourd'hui", "", "A" * 90):
        assert split_name(text) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_as_a_page_gives_bounded_findings(text):
    found = read_page(text, base_url=BASE, domain="alpha.fr")
    assert all(e.endswith("@alpha.fr") for e in found.emails)
    assert all(len(p.job_title) <= 255 for p in found.people)
    assert all(p.first_name and p.last_name for p in found.people)
