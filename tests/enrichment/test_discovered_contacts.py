"""Discovered contacts wait apart from prospects until a person approves them."""

import datetime as dt
import html

import pytest
from django.utils import timezone

from enrichment.discovery import contacts
from enrichment.models import DiscoveredContact, EnrichmentItem
from prospects import services as prospect_services
from prospects.models import FieldProvenance, Prospect

Contact = DiscoveredContact
CHANGELIST = "/admin/enrichment/discoveredcontact/"


def add(workspace, first="Hélène", last="Ménard", domain="alpha.fr", **extra):
    extra.setdefault("method", Contact.Method.WEBSITE)
    return contacts.add_contact(workspace, first_name=first, last_name=last, domain=domain, **extra)


def found(contact, email, status="verified", score=92, **extra):
    contacts.record_address(
        contact, email=email, status=status, score=score, evidence="3 adresses connues", **extra
    )
    contact.refresh_from_db()
    return contact


def test_one_contact_per_person_and_domain_whatever_the_accents(workspace):
    first, created = add(workspace)
    again, created_again = add(workspace, first="HELENE", last="menard", domain="https://Alpha.fr/")
    assert created and not created_again
    assert again.pk == first.pk
    assert Contact.objects.for_workspace(workspace).count() == 1


@pytest.mark.parametrize(
    ("first", "last", "domain"), [("", "Ménard", "alpha.fr"), ("Ana", "Roy", "pas un domaine")]
)
def test_a_contact_without_a_name_or_a_domain_is_refused(workspace, first, last, domain):
    with pytest.raises(contacts.DiscoveryRefused):
        add(workspace, first=first, last=last, domain=domain)
    assert not Contact.objects.for_workspace(workspace).exists()


def test_quotas_refuse_with_a_french_message(workspace, member, settings):
    settings.SOURCIER_DISCOVERY_QUOTAS = {"contacts_per_user_per_day": 2, "contacts_per_company": 3}
    add(workspace, first="Ana", user=member)
    add(workspace, first="Bob", user=member)
    with pytest.raises(contacts.DiscoveryRefused, match="quota de 2 contacts découverts"):
        add(workspace, first="Cy", user=member)
    add(workspace, first="Cy")  # not this user's quota
    with pytest.raises(contacts.DiscoveryRefused, match=r"alpha\.fr a déjà 3 contacts"):
        add(workspace, first="Dan")
    add(workspace, first="Ana", user=member)  # an existing contact costs no quota


def test_nothing_reaches_the_prospects_before_approval(workspace):
    contact, _ = add(workspace)
    found(contact, "helene.menard@alpha.fr")
    assert not Prospect.objects.for_workspace(workspace).exists()


def test_approval_creates_a_verified_prospect_with_its_provenance(workspace, member):
    workspace.auto_enrich = "email"
    workspace.save()
    contact, _ = add(workspace, job_title="Directrice commerciale")
    found(contact, "helene.menard@alpha.fr", score=92)

    decision = contacts.approve_contacts(workspace, [contact.pk], user=member)

    assert [c.pk for c in decision.done] == [contact.pk]
    prospect = Prospect.objects.for_workspace(workspace).get()
    assert (prospect.first_name, prospect.email) == ("Hélène", "helene.menard@alpha.fr")
    assert prospect.source == "discovery"
    assert prospect.status == Prospect.Status.VERIFIED
    assert prospect.enrichment_source == "discovery"
    assert prospect.company.domain == "alpha.fr"
    email = FieldProvenance.objects.for_workspace(workspace).get(
        prospect=prospect, field="email", is_current=True
    )
    assert (email.source, email.confidence) == ("discovery", 92)
    contact.refresh_from_db()
    assert contact.status == Contact.Status.APPROVED
    assert contact.prospect_id == prospect.pk and contact.decided_by == member
    # Verified for free: no paid waterfall is queued for it.
    assert not EnrichmentItem.objects.for_workspace(workspace).exists()


def test_approval_keeps_how_sure_the_source_was_of_the_name(workspace, member):
    # Read from a team page's card at 60: the prospect's name and title say 60, not what a
    # person typed (100), so a better source may still correct them.
    contact, _ = add(workspace, job_title="Directrice commerciale", confidence=60)
    found(contact, "helene.menard@alpha.fr", score=92)
    contacts.approve_contacts(workspace, [contact.pk], user=member)
    prospect = Prospect.objects.for_workspace(workspace).get()
    rows = FieldProvenance.objects.for_workspace(workspace).filter(
        prospect=prospect, is_current=True
    )
    confidence = dict(rows.values_list("field", "confidence"))
    assert confidence["first_name"] == confidence["job_title"] == 60
    assert confidence["email"] == 92


def test_a_risky_address_makes_a_prospect_still_to_verify(workspace):
    contact, _ = add(workspace)
    found(contact, "helene@alpha.fr", status="risky", score=40, catch_all=True)
    contacts.approve_contacts(workspace, [contact.pk])
    prospect = Prospect.objects.for_workspace(workspace).get()
    assert prospect.email == "helene@alpha.fr"
    assert prospect.status == Prospect.Status.NEW


def test_an_invalid_address_is_never_given_to_the_prospect(workspace):
    contact, _ = add(workspace)
    found(contact, "nope@alpha.fr", status="invalid", score=0)
    contacts.approve_contacts(workspace, [contact.pk])
    assert Prospect.objects.for_workspace(workspace).get().email == ""


def test_approval_links_the_prospect_that_exists_and_keeps_a_typed_address(workspace):
    typed = prospect_services.create_prospect(
        workspace,
        data={
            "first_name": "Hélène",
            "last_name": "Ménard",
            "email": "h.menard@alpha.fr",
            "company_domain": "alpha.fr",
            "company_name": "Alpha",
        },
    )
    contact, _ = add(workspace, company=typed.company)
    found(contact, "helene.menard@alpha.fr")
    contacts.approve_contacts(workspace, [contact.pk])
    assert Prospect.objects.for_workspace(workspace).count() == 1
    typed.refresh_from_db()
    assert typed.email == "h.menard@alpha.fr"
    assert typed.status != Prospect.Status.VERIFIED
    kept = FieldProvenance.objects.for_workspace(workspace).filter(prospect=typed, field="email")
    assert {"h.menard@alpha.fr", "helene.menard@alpha.fr"} == set(
        kept.values_list("value", flat=True)
    )
    contact.refresh_from_db()
    assert contact.prospect_id == typed.pk


def test_approval_links_by_address(workspace):
    same = prospect_services.create_prospect(
        workspace, data={"first_name": "H", "last_name": "M", "email": "helene.menard@alpha.fr"}
    )
    contact, _ = add(workspace)
    found(contact, "helene.menard@alpha.fr")
    contacts.approve_contacts(workspace, [contact.pk])
    contact.refresh_from_db()
    assert contact.prospect_id == same.pk
    assert Prospect.objects.for_workspace(workspace).count() == 1


def test_someone_who_objected_never_becomes_a_prospect(workspace):
    prospect_services.suppress_person(workspace, email="helene.menard@alpha.fr")
    contact, _ = add(workspace)
    found(contact, "helene.menard@alpha.fr")
    other, _ = add(workspace, first="Bob", last="Roy")
    found(other, "bob.roy@alpha.fr")

    decision = contacts.approve_contacts(workspace, [contact.pk, other.pk])

    assert [c.pk for c in decision.done] == [other.pk]
    assert [c.pk for c, _reason in decision.refused] == [contact.pk]
    assert list(Prospect.objects.for_workspace(workspace).values_list("email", flat=True)) == [
        "bob.roy@alpha.fr"
    ]
    contact.refresh_from_db()
    assert contact.status == Contact.Status.REJECTED
    assert "opposition" in contact.decision_note


def test_a_decided_contact_is_not_decided_again(workspace):
    contact, _ = add(workspace)
    contacts.reject_contacts(workspace, [contact.pk])
    decision = contacts.approve_contacts(workspace, [contact.pk])
    assert not decision.done and decision.refused
    assert not Prospect.objects.for_workspace(workspace).exists()
    found(contact, "late@alpha.fr")
    assert contact.email == ""  # a decided contact keeps what was decided on


def test_another_workspace_cannot_approve_or_reject(workspace, other_workspace):
    contact, _ = add(workspace)
    assert not contacts.approve_contacts(other_workspace, [contact.pk]).done
    assert not contacts.reject_contacts(other_workspace, [contact.pk]).done
    contact.refresh_from_db()
    assert contact.status == Contact.Status.PENDING
    assert not Prospect.objects.for_workspace(other_workspace).exists()


def test_unapproved_contacts_are_purged_after_the_retention_period(workspace):
    add(workspace, first="Ana")  # pending, old
    old_rejected, _ = add(workspace, first="Bob")
    old_approved, _ = add(workspace, first="Cy")
    recent, _ = add(workspace, first="Dan")
    contacts.reject_contacts(workspace, [old_rejected.pk])
    contacts.approve_contacts(workspace, [old_approved.pk])
    long_ago = timezone.now() - dt.timedelta(days=31)
    Contact.objects.for_workspace(workspace).exclude(pk=recent.pk).update(created_at=long_ago)

    assert contacts.purge_unapproved() == 2
    left = set(Contact.objects.for_workspace(workspace).values_list("pk", flat=True))
    assert left == {old_approved.pk, recent.pk}
    assert contacts.purge_unapproved() == 0


# --- The approval queue in the admin ----------------------------------------------------


def test_the_queue_shows_the_workspace_contacts_with_their_badge(
    member_client, workspace, other_workspace
):
    mine, _ = add(workspace)
    found(mine, "helene.menard@alpha.fr", score=92)
    risky, _ = add(workspace, first="Bob", last="Roy")
    found(risky, "bob@alpha.fr", status="risky", score=35)
    theirs, _ = add(other_workspace, first="Eve", last="Noir")
    page = member_client.get(CHANGELIST).content.decode()
    assert "helene.menard@alpha.fr" in page and "Eve" not in page
    assert 'badge-score-green">92' in page and 'badge-score-red">35' in page
    # The address's status filter agrees with "adresse" (feminine).
    assert ">Vérifiée</a>" in page and ">Vérifié</a>" not in page
    assert member_client.get(f"{CHANGELIST}{theirs.pk}/change/").status_code in (302, 404)
    assert member_client.get(f"{CHANGELIST}{mine.pk}/change/").status_code == 200


def test_approving_from_the_queue(member_client, workspace, other_workspace):
    mine, _ = add(workspace)
    found(mine, "helene.menard@alpha.fr")
    theirs, _ = add(other_workspace, first="Eve", last="Noir")
    response = member_client.post(
        CHANGELIST, {"action": "approve", "_selected_action": [mine.pk, theirs.pk]}
    )
    assert response.status_code == 302
    assert Prospect.objects.for_workspace(workspace).count() == 1
    assert not Prospect.objects.for_workspace(other_workspace).exists()
    theirs.refresh_from_db()
    assert theirs.status == Contact.Status.PENDING


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_a_selection_of_another_workspaces_contacts_is_said_to_do_nothing(
    member_client, workspace, other_workspace, action
):
    theirs, _ = add(other_workspace, first="Eve", last="Noir")
    response = member_client.post(
        CHANGELIST, {"action": action, "_selected_action": [theirs.pk]}, follow=True
    )
    said = [str(m) for m in response.context["messages"]]
    assert said == [
        "Aucun des contacts choisis n’est dans cet espace de travail : rien n’a été fait."
    ]
    theirs.refresh_from_db()
    assert theirs.status == Contact.Status.PENDING


def test_only_a_workspace_administrator_deletes_contacts(member_client, admin_client_ws, workspace):
    first, _ = add(workspace)
    second, _ = add(workspace, first="Bob", last="Roy")
    page = member_client.get(CHANGELIST).content.decode()
    assert 'value="delete_selected"' not in page
    selected = {"action": "delete_selected", "_selected_action": [first.pk, second.pk]}
    refused = member_client.post(CHANGELIST, {**selected, "post": "yes"})
    assert refused.status_code in (200, 302)
    assert member_client.get(f"{CHANGELIST}{first.pk}/delete/").status_code == 403
    assert member_client.post(f"{CHANGELIST}{first.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Contact.objects.for_workspace(workspace).count() == 2

    assert 'value="delete_selected"' in admin_client_ws.get(CHANGELIST).content.decode()
    assert admin_client_ws.get(f"{CHANGELIST}{first.pk}/delete/").status_code == 200
    deleted = admin_client_ws.post(CHANGELIST, {**selected, "post": "yes"})
    assert deleted.status_code == 302
    assert not Contact.objects.for_workspace(workspace).exists()


def test_approval_links_a_namesake_at_a_company_added_after_the_contact(workspace):
    contact, _ = add(workspace)  # found before the company existed: no company
    found(contact, "helene.menard@alpha.fr")
    typed = prospect_services.create_prospect(
        workspace,
        data={
            "first_name": "Hélène",
            "last_name": "Ménard",
            "email": "h.menard@alpha.fr",
            "company_domain": "alpha.fr",
        },
    )
    decision = contacts.approve_contacts(workspace, [contact.pk])
    assert [c.pk for c in decision.done] == [contact.pk], decision.refused
    contact.refresh_from_db()
    assert (contact.status, contact.prospect_id) == (Contact.Status.APPROVED, typed.pk)
    assert Prospect.objects.for_workspace(workspace).count() == 1


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("probing_paused", "la sonde de ce serveur de messagerie est suspendue"),
        ("accept_all_provider:microsoft", "accepte toutes les adresses, puis renvoie"),
        ("something_new", "something_new"),
    ],
)
def test_a_contact_page_says_the_reason_in_french(member_client, workspace, code, said):
    contact, _ = add(workspace)
    found(contact, "helene.menard@alpha.fr", status="unknown", score=75, reason=code)
    page = member_client.get(f"{CHANGELIST}{contact.pk}/change/").content.decode()
    assert said in html.unescape(page)
    if code != "something_new":
        assert code not in page


def test_an_unknown_address_is_said_checked_not_verified(member_client, workspace):
    contact, _ = add(workspace)
    found(contact, "helene.menard@alpha.fr", status="unknown", score=75, reason="greylisted")
    page = html.unescape(member_client.get(f"{CHANGELIST}{contact.pk}/change/").content.decode())
    assert "Contrôlée le" in page
    assert "Vérifiée le" not in page
