"""Discovering a company's people for free: read its own pages for the people it names and
the addresses it publishes, then find and verify each person's address (permutations, DNS,
SMTP). Everything found waits in the approval queue; nothing touches the prospects.

Nobody on the objection list is ever probed: when any candidate address of a person is on
it, that person is left out before the first DNS or SMTP question."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from urllib3.exceptions import HTTPError

from prospects import normalize
from prospects import services as prospect_services
from prospects.models import Prospect, Workspace

from ..models import DiscoveredContact
from ..webhooks import netguard
from . import checking, contacts, people_search
from .patterns import KnownAddress
from .permutations import pattern_of
from .services import Discovery
from .website import PersonOnPage, pages_to_visit, read_page

MAX_PAGE_BYTES = 1_000_000
PAGE_TIMEOUT = 10.0
USER_AGENT = "Sourcier-discovery/1.0 (B2B contact discovery; respects robots.txt)"


@dataclass
class DiscoveryRun:
    """What one discovery of a domain did, for the command, the API and the admin."""

    domain: str
    pages: int = 0
    people: int = 0
    added: int = 0
    objected: int = 0
    statuses: Counter = field(default_factory=Counter)
    refused: str = ""
    refused_code: str = ""
    warnings: set[str] = field(default_factory=set)
    contact_ids: list[int] = field(default_factory=list)
    # Named by the vendor's people search (not on the site), and what that search cost.
    provider_people: int = 0
    cost: Decimal = Decimal("0")


def site_url(domain: str, path: str) -> str:
    """The page's address: the company's own site, or the sandbox's copy of it."""
    base = getattr(settings, "SOURCIER_DISCOVERY_SITE_URL", "")
    if base:
        return base.format(domain=domain).rstrip("/") + path
    return f"https://{domain}{path}"


def _allowed_hosts() -> list[str]:
    """The operator's own site server (the sandbox): a setting, never a user's input."""
    base = getattr(settings, "SOURCIER_DISCOVERY_SITE_URL", "")
    if not base:
        return []
    _scheme, host, port, _path = netguard.split_url(base.format(domain="x"))
    return [f"{host}:{port}"]


def fetch_page(url: str) -> str | None:
    """The page's HTML, or None (refused address, error, not HTML). Redirects are not
    followed; at most MAX_PAGE_BYTES are read."""
    try:
        target = netguard.check_url(
            url, resolve=netguard.resolve_with_system, allowed_hosts=_allowed_hosts()
        )
    except netguard.Refused:
        return None
    pool = netguard.pinned_pool(target, timeout=PAGE_TIMEOUT)
    try:
        answer = pool.urlopen(
            "GET",
            target.path,
            headers={"user-agent": USER_AGENT, "accept": "text/html"},
            redirect=False,
            preload_content=False,
        )
        try:
            if answer.status != 200 or "html" not in answer.headers.get("content-type", ""):
                return None
            body = answer.read(MAX_PAGE_BYTES, decode_content=True)
        finally:
            answer.release_conn()
    except (HTTPError, OSError):
        return None
    finally:
        pool.close()
    return body.decode("utf-8", "replace")


def read_site(
    domain: str, fetch: Callable[[str], str | None]
) -> tuple[list[PersonOnPage], list[str], int]:
    """(people, published addresses, pages read) from the home page and the pages it links."""
    people: dict[tuple[str, str], PersonOnPage] = {}
    emails: list[str] = []
    pages = 0
    home = fetch(site_url(domain, "/"))
    links: list[str] = []
    if home is not None:
        pages += 1
        found = read_page(home, base_url=site_url(domain, "/"), domain=domain)
        links = found.links
        emails += found.emails
        for person in found.people:
            people.setdefault((person.first_name, person.last_name), person)
    for path in pages_to_visit(links):
        html = fetch(site_url(domain, path))
        if html is None:
            continue
        pages += 1
        found = read_page(html, base_url=site_url(domain, "/"), domain=domain)
        emails += [e for e in found.emails if e not in emails]
        for person in found.people:
            key = (normalize.fold(person.first_name), normalize.fold(person.last_name))
            if key not in people or person.confidence > people[key].confidence:
                people[key] = person
    return list(people.values()), emails, pages


def known_addresses(
    workspace: Workspace, domain: str, published: list[str], people: list[PersonOnPage]
) -> list[KnownAddress]:
    """Addresses that teach the domain's pattern: verified prospects of the workspace on the
    domain, and published addresses whose local part matches a person on the pages."""
    known = [
        KnownAddress(email, first, last)
        for email, first, last in Prospect.objects.for_workspace(workspace)
        .filter(status=Prospect.Status.VERIFIED, email_key__endswith="@" + domain)
        .values_list("email", "first_name", "last_name")[:200]
        if first and last
    ]
    for email in published:
        local = email.partition("@")[0]
        for person in people:
            if pattern_of(local, person.first_name, person.last_name):
                known.append(KnownAddress(email, person.first_name, person.last_name))
                break
    return known


def discover_company(
    workspace: Workspace,
    domain: str,
    *,
    user: Any = None,
    smtp: bool = True,
    fetch: Callable[[str], str | None] = fetch_page,
    progress: Callable[[int, int], Any] | None = None,
    search_people: bool = False,
    allowance: Any = None,
) -> DiscoveryRun:
    """Read the site of `domain`, add the people it names as contacts to review, and find
    and verify each one's best address. With `search_people`, the people the workspace's
    people-search vendors (AI Ark, Apollo) know there are added too (paid, once per domain
    within the cache period). A job's `allowance` holds its requester's contacts quota for
    each contact added (see quotas.JobContacts): once spent, the run stops there."""
    try:
        domain = normalize.normalize_domain(domain)
    except normalize.InvalidValue as error:
        raise contacts.DiscoveryRefused(str(error), code="invalid_domain") from error
    if not domain:
        raise contacts.DiscoveryRefused(
            _("Give the domain of a company, e.g. exemple.fr."), code="invalid_domain"
        )
    run = DiscoveryRun(domain=domain)
    people, published, run.pages = read_site(domain, fetch)
    if search_people:
        people = _with_provider_people(workspace, domain, people, run)
    run.people = len(people)
    company = prospect_services.find_company(workspace.pk, domain=domain)
    known = known_addresses(workspace, domain, published, people)
    with Discovery(workspace_id=workspace.pk, smtp=smtp) as discovery:
        for done, person in enumerate(people, start=1):
            if checking.objecting(workspace.pk, person.first_name, person.last_name, domain):
                run.objected += 1
                continue
            try:
                contact, created = contacts.add_contact(
                    workspace,
                    first_name=person.first_name,
                    last_name=person.last_name,
                    domain=domain,
                    job_title=person.job_title,
                    method=(
                        DiscoveredContact.Method.PROVIDER
                        if person.how == people_search.HOW
                        else DiscoveredContact.Method.WEBSITE
                    ),
                    source=(
                        person.source
                        if person.how == people_search.HOW
                        else site_url(domain, "/")
                    ),
                    confidence=person.confidence,
                    company=company,
                    user=user,
                    allowance=allowance,
                )
            except contacts.DiscoveryRefused as refusal:
                run.refused = str(refusal)
                run.refused_code = refusal.code
                break
            run.added += int(created)
            run.contact_ids.append(contact.pk)
            # A contact already checked keeps its answer: running a discovery again (a retried
            # task, a second click) sends no probe.
            if contact.status == DiscoveredContact.Status.PENDING and contact.checked_at is None:
                verdict = checking.check_contact(discovery, contact, known=known)
                run.statuses[verdict.status] += 1
            if progress:
                progress(done, len(people))
        run.warnings |= set(discovery.warnings)
    return run


def _with_provider_people(
    workspace: Workspace, domain: str, people: list[PersonOnPage], run: DiscoveryRun
) -> list[PersonOnPage]:
    """The site's people, then those only the vendors' people searches name."""
    search = people_search.search_people(workspace.pk, domain, named=people)
    run.warnings.update(search.warnings)
    run.cost = search.cost
    seen = {(normalize.fold(p.first_name), normalize.fold(p.last_name)) for p in people}
    added = []
    for person in search.people:
        name = (normalize.fold(person.first_name), normalize.fold(person.last_name))
        if name not in seen:
            seen.add(name)
            added.append(person)
    run.provider_people = len(added)
    return [*people, *added]
