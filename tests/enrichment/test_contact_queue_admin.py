"""The approval queue in the admin: searched as the prospect list is (accents and case aside),
and what it says is true (a contact approved or rejected before is said to be so)."""

import html

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from enrichment.discovery import contacts
from enrichment.models import DiscoveredContact

Contact = DiscoveredContact
QUEUE = reverse("admin:enrichment_discoveredcontact_changelist")
MANUAL = reverse("admin:enrichment_discoveredcontact_manual")


def add(workspace, first, last, domain="alpha.fr", **extra):
    contact, _created = contacts.add_contact(
        workspace,
        first_name=first,
        last_name=last,
        domain=domain,
        method=Contact.Method.WEBSITE,
        **extra,
    )
    return contact


def said(client, response):
    """The messages of a request that redirects; the queue shown next consumes them."""
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    client.get(QUEUE)
    return messages


# --- Search ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "term",
    ["menard", "MÉNARD", "Ménard", "juliette menard", "JULIETTE", "direction@alpha.fr",
     "alpha.fr", "Directrice", "achats"],
)
def test_the_queue_is_searched_accents_and_case_aside(member_client, workspace, term):
    juliette = add(workspace, "Juliette", "Ménard", job_title="Directrice des achats")
    contacts.record_address(juliette, email="direction@alpha.fr", status="verified", score=92)
    add(workspace, "Bob", "Roy", domain="beta.fr")
    page = html.unescape(member_client.get(QUEUE, {"q": term}).content.decode())
    assert "Juliette Ménard" in page
    assert "Bob Roy" not in page


def test_a_search_for_nobody_finds_nobody(member_client, workspace, other_workspace):
    add(workspace, "Juliette", "Ménard")
    add(other_workspace, "Eve", "Ménard")
    page = html.unescape(member_client.get(QUEUE, {"q": "ménard eve"}).content.decode())
    assert "Juliette Ménard" not in page and "Eve Ménard" not in page


# --- What the queue says ------------------------------------------------------------------


def manual(client, first, last, domain="alpha.fr"):
    return client.post(
        MANUAL, {"first_name": first, "last_name": last, "job_title": "", "domain": domain}
    )


def test_adding_again_by_hand_says_what_was_decided(member_client, workspace):
    approved = add(workspace, "Juliette", "Ménard")
    contacts.record_address(
        approved, email="juliette.menard@alpha.fr", status="verified", score=92
    )
    assert contacts.approve_contacts(workspace, [approved.pk]).done
    rejected = add(workspace, "Bob", "Roy")
    contacts.reject_contacts(workspace, [rejected.pk])
    waiting = add(workspace, "Ana", "Lo")

    again = said(member_client, manual(member_client, "juliette", "MENARD"))
    assert again == [f"{approved} : contact déjà approuvé, son prospect existe."]
    again = said(member_client, manual(member_client, "Bob", "Roy"))
    assert again == [f"{rejected} : contact déjà refusé, il n'est pas remis dans la file."]
    again = said(member_client, manual(member_client, "Ana", "Lo"))
    assert again == [f"{waiting} est déjà dans la file."]
    assert Contact.objects.for_workspace(workspace).count() == 3


@pytest.mark.parametrize("domain", ["exa mple.fr", "-x.fr", "x_y.fr"])
def test_a_domain_that_is_no_host_name_is_refused_by_hand(member_client, workspace, domain):
    response = manual(member_client, "Ana", "Lo", domain=domain)
    assert response.status_code == 200
    assert f"Domaine invalide : {domain}" in html.unescape(response.content.decode())
    assert not Contact.objects.for_workspace(workspace).exists()


def test_rejecting_a_decided_contact_says_why_nothing_was_done(member_client, workspace):
    approved = add(workspace, "Juliette", "Ménard")
    contacts.record_address(
        approved, email="juliette.menard@alpha.fr", status="verified", score=92
    )
    contacts.approve_contacts(workspace, [approved.pk])
    rejected = add(workspace, "Bob", "Roy")
    contacts.reject_contacts(workspace, [rejected.pk])

    response = member_client.post(
        QUEUE, {"action": "reject", "_selected_action": [approved.pk, rejected.pk]}
    )
    assert response.status_code == 302
    assert said(member_client, response) == [
        f"{approved} — déjà approuvé : un contact approuvé ne peut plus être refusé, son "
        "prospect existe.",
        f"{rejected} — déjà refusé.",
    ]
    approved.refresh_from_db()
    assert approved.status == Contact.Status.APPROVED

    waiting = add(workspace, "Ana", "Lo")
    response = member_client.post(
        QUEUE, {"action": "reject", "_selected_action": [waiting.pk, approved.pk]}
    )
    assert said(member_client, response) == [
        "1 contact refusé.",
        f"{approved} — déjà approuvé : un contact approuvé ne peut plus être refusé, son "
        "prospect existe.",
    ]
