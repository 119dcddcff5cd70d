"""Reading a company's own pages for the people it names (pure: HTML in, people out).

Sources, most trusted first: schema.org `Person` data (JSON-LD or microdata), the legal notice
("Directeur de la publication : Jeanne Martin", required on every French site by the LCEN), and
team cards (a name next to a job title). Published addresses (`mailto:` links and addresses
written out, "[at]" spellings included) are kept too: they teach the domain's pattern.

Every value is text from someone else's server: lengths are bounded, names must look like
names, and nothing is ever evaluated or followed from here (`pages_to_visit` only names paths
on the same site; the fetcher decides)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup

from prospects import normalize

MAX_HTML_CHARS = 2_000_000
MAX_PEOPLE_PER_PAGE = 200
# Paths worth a visit, in French and English, when the home page does not link them.
LIKELY_PATHS = (
    "/equipe",
    "/notre-equipe",
    "/team",
    "/a-propos",
    "/qui-sommes-nous",
    "/about",
    "/contact",
    "/mentions-legales",
)
_LINK_WORDS = re.compile(
    r"equipe|team|a-propos|apropos|about|qui-sommes|contact|mentions|legal|direction|dirigeants",
    re.I,
)
# Job words a title carries (folded: accents removed, lower case).
_TITLE_WORDS = re.compile(
    r"\b(directeur|directrice|dg|pdg|ceo|cto|cfo|coo|cmo|vp|head|(?:co-?)?fondat\w*|founder|"
    r"president|gerant|associe|responsable|manager|chef|charge|chargee|commercial|"
    r"commerciale|marketing|ventes|sales|rh|drh|daf|dsi|partner|consultant|ingenieur|"
    r"developpeur|comptable|assistant|assistante|office|business|account|director|managing|"
    r"lead|achats|logistique|recrutement|operations|partnerships|officer|engineer)\w{0,3}\b"
)
_LEGAL_ROLES = re.compile(
    r"(directeur|directrice|responsable)\s+de\s+(la\s+)?publication|g[ée]rant|"
    r"pr[ée]sident(e)?|repr[ée]sentant\s+l[ée]gal",
    re.I,
)
# Who publishes the site, in a French legal notice (LCEN art. 6): the company itself.
_PUBLISHER = re.compile(
    r"\b(?:[ée]diteur(?:\s+du\s+site)?|raison\s+sociale|d[ée]nomination(?:\s+sociale)?)\s*[:：]",
    re.I,
)
# schema.org types that are a company (an organisation's `name` is the company's name).
ORGANISATIONS = frozenset({"Organization", "Corporation", "LocalBusiness", "Company"})
MAX_COMPANY_NAME = 120
# What a spreadsheet reads as a formula at the start of a cell.
FORMULA_START = frozenset("=+-@\t\r")
# What a site calls itself when it says nothing (folded).
NOT_A_NAME = frozenset({
    "accueil", "home", "homepage", "bienvenue", "welcome", "index", "site officiel",
    "site internet", "notre site", "mentions legales", "contact",
})  # fmt: skip
# Latin letters with their accents (Latin Extended-A and Additional mix both cases).
_UP, _LOW = "A-ZÀ-ÖØ-ÞĀ-ſḀ-ỿ", "a-zà-öø-ÿĀ-ſḀ-ỿ"
_NAME_PART = rf"(?:[{_UP}][{_LOW}]+|[{_UP}]{{2,}}|[{_UP}](?=['’]))"
_NAME_WORD = rf"{_NAME_PART}(?:[-'’](?:{_NAME_PART}|[{_LOW}]+))*"
_PARTICLE = r"(?:de|du|des|d'|d’|le|la|les|van|von|der|den|ter|ten|ben|ibn|el|al|da|dos|di)"
_NAME = re.compile(
    rf"^(?:(?:M\.|Mme|Mr|Mrs|Dr)\s+)?({_NAME_WORD}"
    rf"(?:(?:(?:\s+{_PARTICLE})+\s*|\s+){_NAME_WORD}){{1,3}})$"
)
# Words no person's name carries (folded): page headings, services, the company's legal form.
# "Service Client", "Nos Clients" and "Boréal Industries" are written like names but are not.
_NOT_NAME_WORDS = frozenset(
    {
        "client", "clients", "service", "services", "equipe", "equipes", "team", "contact",
        "contacts", "contactez", "nous", "nos", "notre", "vos", "votre", "mentions", "legales",
        "legal", "societe", "industries", "industrie", "groupe", "group", "holding", "sas", "sasu",
        "sarl", "eurl", "sci", "snc", "scop", "selarl", "gie", "gmbh", "ltd", "llc", "inc", "plc",
        "cie", "compagnie", "entreprise", "entreprises", "agence", "cabinet", "conseil",
        "consulting", "solutions", "technologies", "systemes", "systems", "ingenierie", "digital",
        "formation", "batiment", "distribution", "studio", "labs", "analytics", "robotics",
        "partners", "software", "logistics", "networks", "health", "partenaires", "accueil",
        "bienvenue", "actualites", "actualite", "news", "blog", "presse", "references",
        "carrieres", "emploi", "offres", "propos", "qui", "sommes", "about", "politique",
        "confidentialite", "cookies", "conditions", "generales", "siege", "bureaux", "magasin",
        "boutique", "atelier", "international", "europe",
    }
)
_HEADING_PARTS = re.compile(r"\s+[|–—:·•-]\s+|\s*[|–—·•]\s*")
# A published address, plain or in words ("jean [at] alpha [dot] fr", "jean arobase alpha dot
# fr"), in a page's text whose spaces are single (`_emails`). Its name starts a word (the
# look-behind): a match is tried once per word, not at each of its letters, so a hostile
# page's megabyte of letters or spaces costs one pass, not one per character.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64} ?(?:@|\[at\]|\(at\)| at | arobase ) ?"
    r"[A-Za-z0-9\-]{1,63}(?:(?:\.| ?\[dot\] ?| ?\(dot\) ?| dot )[A-Za-z0-9\-]{1,63})+",
    re.I,
)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class PersonOnPage:
    first_name: str
    last_name: str
    job_title: str
    how: str  # "schema", "legal_notice", "team_card" or "provider"
    confidence: int
    # The vendor whose people search named them ("aiark", "apollo"); "" for the site's.
    source: str = ""


@dataclass
class PageFindings:
    people: list[PersonOnPage]
    emails: list[str]
    links: list[str]
    # The page's <title> and <h1> texts, folded: on the home page, the company's own name.
    headings: set[str] = field(default_factory=set)
    # The company's name as the page gives it (schema.org, og:site_name, the legal notice's
    # publisher), "" when it does not.
    company_name: str = ""


def person_key(person: PersonOnPage) -> tuple[str, str]:
    """The same person however the pages write their name (accents, case, spacing)."""
    return normalize.fold(person.first_name), normalize.fold(person.last_name)


def merged(known: PersonOnPage, found: PersonOnPage) -> PersonOnPage:
    """One person named twice: the more trusted source's name and confidence, and the job
    title of the page that gives one. A legal role ("Directeur de la publication") only fills
    an empty title: the team page's "Responsable partenariats" stays."""
    best, other = (found, known) if found.confidence > known.confidence else (known, found)
    title = best.job_title
    if not title or (best.how == "legal_notice" and other.job_title):
        title = other.job_title or title
    return replace(best, job_title=title)


def merge_into(people: dict[tuple[str, str], PersonOnPage], found: list[PersonOnPage]) -> None:
    for person in found:
        key = person_key(person)
        people[key] = merged(people[key], person) if key in people else person


def split_name(full: str) -> tuple[str, str] | None:
    """('Jean-Pierre', 'de La Fontaine') for 'Jean-Pierre de La Fontaine'; None if it does not
    look like a person's name (one word, digits, a sentence)."""
    full = " ".join(normalize.clean_text(full).split())
    if not full or len(full) > 80:
        return None
    match = _NAME.match(full)
    if not match:
        return None
    words = match.group(1).split()
    if any(_not_a_name_word(word) for word in words):
        return None
    first, rest = words[0], words[1:]
    # An upper-case surname written first ("MARTIN Jeanne") is the French administrative style.
    if first.isupper() and len(first) > 1 and rest and not rest[-1].isupper():
        first, rest = rest[-1], [*words[:1], *rest[:-1]]
    last = " ".join(rest)
    if last.isupper():
        last = last.title()
    return first, last


def _not_a_name_word(word: str) -> bool:
    """A word of a heading, a service or a legal form ("SA" only in capitals: "Sa" is a
    surname)."""
    return word == "SA" or any(part in _NOT_NAME_WORDS for part in normalize.fold(word).split())


def headings(soup: BeautifulSoup) -> set[str]:
    """The folded texts of the page's <title> and <h1>, whole and cut at their separators
    ("Boréal Industries | Accueil" gives both parts)."""
    found = set()
    for tag in soup.find_all(["title", "h1"], limit=20):
        text = " ".join(tag.get_text(" ", strip=True).split())[:200]
        for part in [text, *_HEADING_PARTS.split(text)]:
            if normalize.fold(part):
                found.add(normalize.fold(part))
    return found


def _person(full: str, title: str, how: str, confidence: int) -> PersonOnPage | None:
    name = split_name(full)
    if name is None:
        return None
    title = " ".join(normalize.clean_text(title).split())[:255]
    return PersonOnPage(name[0], name[1], title, how, confidence)


def _json_ld_people(soup: BeautifulSoup) -> list[PersonOnPage]:
    people = []
    for script in soup.find_all("script", type="application/ld+json"):
        data = _json_ld(script)
        stack = [data]
        while stack and len(people) < MAX_PEOPLE_PER_PAGE:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node[:MAX_PEOPLE_PER_PAGE])
            elif isinstance(node, dict):
                if node.get("@type") == "Person" and isinstance(node.get("name"), str):
                    title = node.get("jobTitle") if isinstance(node.get("jobTitle"), str) else ""
                    found = _person(node["name"], title, "schema", 80)
                    if found:
                        people.append(found)
                stack.extend(v for v in node.values() if isinstance(v, dict | list))
    return people


def _json_ld(script: Any) -> Any:
    """A JSON-LD block's data, None when it cannot be read (nested past the stack too)."""
    try:
        return json.loads(script.string or "")
    except (ValueError, TypeError, RecursionError):
        return None


def _company_name(soup: BeautifulSoup, text: str) -> str:
    """The company's own name: a schema.org organisation the page is about (a block's own
    node, one of its `@graph` or their `publisher`, never one nested deeper: a review's
    author, a brand, a partner), og:site_name, else the legal notice's publisher
    ("Éditeur : Boréal Industries, SAS au capital de…"). Generic words ("Accueil") are no
    name."""
    for script in soup.find_all("script", type="application/ld+json"):
        data = _json_ld(script)
        nodes = data if isinstance(data, list) else [data]
        for node in list(nodes[:MAX_PEOPLE_PER_PAGE]):
            if isinstance(node, dict) and isinstance(node.get("@graph"), list):
                nodes.extend(node["@graph"][:MAX_PEOPLE_PER_PAGE])
        # The publisher of the site or page described is its owner too.
        nodes += [n["publisher"] for n in nodes if isinstance(n, dict) and "publisher" in n]
        for node in nodes:
            if not isinstance(node, dict):
                continue
            kinds = node.get("@type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            name = _plain_name(node.get("name"))
            if name and ORGANISATIONS & {k for k in kinds if isinstance(k, str)}:
                return name
    meta = soup.find("meta", attrs={"property": "og:site_name"})
    if meta is not None and (name := _plain_name(meta.get("content"))):
        return name
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        publisher = _PUBLISHER.search(line)
        if not publisher:
            continue
        after = line[publisher.end() :].lstrip(" \t:：-–—")
        if not after and index + 1 < len(lines):
            after = lines[index + 1]  # "<strong>Éditeur :</strong> Alpha": the next text
        if name := _plain_name(re.split(r"[,;(|–—]| - ", after, maxsplit=1)[0]):
            return name
    return ""


def _plain_name(value: Any) -> str:
    """A company name fit to keep: one line of text, not too long."""
    if not isinstance(value, str):
        return ""
    name = " ".join(value.split())
    if not 0 < len(name) <= MAX_COMPANY_NAME or not any(c.isalpha() for c in name):
        return ""
    if name[0] in FORMULA_START or "<" in name or ">" in name:
        return ""  # a spreadsheet formula or markup: garbage, not a name
    return "" if normalize.fold(name) in NOT_A_NAME else name


def _legal_notice_people(text: str) -> list[PersonOnPage]:
    people = []
    for line in text.splitlines():
        role = _LEGAL_ROLES.search(line)
        if not role:
            continue
        after = line[role.end() :].lstrip(" \t:：-–—,")
        candidate = re.split(r"[,;(|–—]| - ", after, maxsplit=1)[0].strip()
        found = _person(candidate, role.group(0), "legal_notice", 75)
        if found:
            people.append(found)
    return people


def _team_cards(soup: BeautifulSoup, not_people: set[str]) -> list[PersonOnPage]:
    """A short name-like text directly followed by a title-like one, in the same card; never
    a heading of the page nor the company's own name (`not_people`, folded)."""
    people = []
    texts = [" ".join(t.split()) for t in soup.stripped_strings]
    for name, title in pairwise(texts):
        if len(title) > 120 or not _TITLE_WORDS.search(normalize.fold(title)):
            continue
        if _TITLE_WORDS.search(normalize.fold(name)):
            continue  # two titles in a row ("Directrice Commerciale", "Responsable RH")
        if normalize.fold(name) in not_people:
            continue  # "<h1>Boréal Industries</h1><p>Marketing et publicité</p>"
        found = _person(name, title, "team_card", 60)
        if found:
            people.append(found)
        if len(people) >= MAX_PEOPLE_PER_PAGE:
            break
    return people


def _emails(soup: BeautifulSoup, text: str, domain: str) -> list[str]:
    raw = [a["href"][7:].split("?")[0] for a in soup.select('a[href^="mailto:"]')]
    raw += _EMAIL.findall(_SPACES.sub(" ", text))
    emails = []
    for value in raw:
        value = re.sub(r" ?(@|\[at\]|\(at\)| at | arobase ) ?", "@", value, flags=re.I)
        value = re.sub(r" ?(\[dot\]|\(dot\)| dot ) ?", ".", value, flags=re.I)
        try:
            email = normalize.normalize_email(value)
        except normalize.InvalidValue:
            continue
        if email.endswith("@" + domain) and email not in emails:
            emails.append(email)
    return emails


def _links(soup: BeautifulSoup, base_url: str) -> list[str]:
    """Paths on the same site whose address or text says team, about, contact or legal."""
    host = urlsplit(base_url).hostname
    paths = []
    for anchor in soup.find_all("a", href=True):
        url = urljoin(base_url, anchor["href"])
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.hostname != host:
            continue
        label = f"{parts.path} {anchor.get_text(' ', strip=True)}"
        if _LINK_WORDS.search(normalize.fold(label)) and parts.path not in paths:
            paths.append(parts.path or "/")
    return paths[:20]


def read_page(
    html: str, *, base_url: str, domain: str, not_people: set[str] | frozenset[str] = frozenset()
) -> PageFindings:
    """The people, the published addresses on `domain` and the links worth a visit.
    `not_people`: folded texts that name no one here (the company's name, its home page's
    headings)."""
    soup = BeautifulSoup(html[:MAX_HTML_CHARS], "html.parser")
    for hidden in soup(["script", "style", "noscript", "template"]):
        if hidden.get("type") != "application/ld+json":
            hidden.decompose()
    text = soup.get_text("\n")
    titles = headings(soup)
    unique: dict[tuple[str, str], PersonOnPage] = {}
    merge_into(unique, _json_ld_people(soup))
    merge_into(unique, _legal_notice_people(text))
    merge_into(unique, _team_cards(soup, titles | set(not_people)))
    return PageFindings(
        people=list(unique.values())[:MAX_PEOPLE_PER_PAGE],
        emails=_emails(soup, text, domain),
        links=_links(soup, base_url),
        headings=titles,
        company_name=_company_name(soup, text),
    )


def pages_to_visit(home_links: list[str]) -> list[str]:
    """The home page's own links first, then the usual paths, without repeats."""
    seen: list[str] = []
    for path in [*home_links, *LIKELY_PATHS]:
        path = path.rstrip("/") or "/"
        if path not in seen and path != "/":
            seen.append(path)
    return seen[:12]
