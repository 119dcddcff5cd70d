"""A contact added by hand from the approval queue: the same quotas, de-duplication, objection
list and address finding as the people found on websites; French messages, never a 500."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from enrichment.models import DiscoveredContact, EmailProbe
from enrichment.sandbox import mail_world as mw
from prospects.models import Prospect
from prospects.services import suppress_person

QUEUE = reverse("admin:enrichment_discoveredcontact_changelist")
MANUAL = reverse("admin:enrichment_discoveredcontact_manual")
Contact = DiscoveredContact


def someone(world, plan, kind=mw.NORMAL):
    return next(
        p
        for p in world.people
        if plan.kinds.get(p.company.domain) == kind
        and p.mailbox_exists
        and p.company.domain not in plan.catch_all
    )


def post(client, **fields):
    data = {"first_name": "", "last_name": "", "job_title": "", "domain": ""}
    response = client.post(MANUAL, {**data, **fields})
    return response, [str(m) for m in get_messages(response.wsgi_request)]


def test_the_queue_links_to_the_french_form(member_client, workspace):
    assert f'href="{MANUAL}"' in member_client.get(QUEUE).content.decode()
    page = member_client.get(MANUAL).content.decode()
    assert "Ajouter un contact à la main" in page
    assert "Domaine de l’entreprise" in page and "Ajouter à la file" in page


def test_a_person_added_by_hand_gets_their_checked_address_and_waits(
    mail_sandbox, world, plan, workspace, member, member_client
):
    person = someone(world, plan)
    response, said = post(
        member_client,
        first_name=person.first_name,
        last_name=person.last_name,
        job_title="Directrice des achats",
        domain=f"https://www.{person.company.domain}/contact",
    )
    assert response.status_code == 302 and response["Location"] == QUEUE
    assert any("ajouté à la file" in m for m in said), said
    contact = Contact.objects.for_workspace(workspace).get()
    assert (contact.method, contact.source, contact.domain) == (
        "manual",
        "manual",
        person.company.domain,
    )
    assert contact.created_by == member and contact.job_title == "Directrice des achats"
    assert (contact.email, contact.email_status) == (person.true_email, "verified")
    assert contact.email_score >= 80 and contact.checked_at is not None
    assert contact.email in contact.patterns_tried
    assert not Prospect.objects.for_workspace(workspace).exists()  # approval comes first

    # The same person again, spelt otherwise: no second contact, no new probe.
    sessions = len(mail_sandbox.sessions)
    response, said = post(
        member_client,
        first_name=person.first_name.upper(),
        last_name=f"  {person.last_name.lower()} ",
        domain=person.company.domain.upper(),
    )
    assert response.status_code == 302
    assert any("est déjà dans la file" in m for m in said), said
    assert Contact.objects.for_workspace(workspace).count() == 1
    assert len(mail_sandbox.sessions) == sessions


def test_quotas_and_bad_input_refuse_in_french_and_store_nothing(
    member_client, workspace, settings
):
    settings.SOURCIER_DISCOVERY_QUOTAS = {"contacts_per_company": 1}
    settings.SOURCIER_SMTP_HELO = ""  # no probing: the address is found from DNS alone
    settings.SOURCIER_DNS_NAMESERVERS = ["127.0.0.1"]
    settings.SOURCIER_DNS_PORT = 9
    settings.SOURCIER_DNS_TIMEOUT = 0.2
    first, _said = post(member_client, first_name="Ana", last_name="Roy", domain="alpha.fr")
    assert first.status_code == 302
    refused, _said = post(member_client, first_name="Bob", last_name="Roy", domain="alpha.fr")
    assert refused.status_code == 200
    assert "alpha.fr a déjà 1 contacts découverts" in refused.content.decode()
    bad, _said = post(member_client, first_name="Cy", last_name="Roy", domain="pas un domaine")
    assert bad.status_code == 200 and 'class="errorlist nonfield"' in bad.content.decode()
    empty, _said = post(member_client, first_name="", last_name="Roy", domain="beta.fr")
    assert empty.status_code == 200 and "Ce champ est obligatoire" in empty.content.decode()
    assert list(Contact.objects.for_workspace(workspace).values_list("first_name", flat=True)) == [
        "Ana"
    ]


def test_someone_who_objected_cannot_be_added_and_is_never_probed(
    mail_sandbox, world, plan, workspace, member_client
):
    person = someone(world, plan)
    suppress_person(workspace, email=person.true_email)
    response, _said = post(
        member_client,
        first_name=person.first_name,
        last_name=person.last_name,
        domain=person.company.domain,
    )
    assert response.status_code == 200
    assert "est sur la liste d&#x27;opposition" in response.content.decode()
    assert not Contact.objects.for_workspace(workspace).exists()
    assert not EmailProbe.objects.unscoped().exists() and mail_sandbox.sessions == []


@pytest.mark.parametrize("url", [MANUAL])
def test_without_a_workspace_the_form_says_to_choose_one(client, django_user_model, url):
    boss = django_user_model.objects.create_superuser("patronne", "p@sourcier.example", "x")
    client.force_login(boss)
    page = client.get(url).content.decode()
    assert "Choisissez d&#x27;abord un espace de travail" in page


@pytest.mark.parametrize(
    ("name", "error"),
    [
        (".", "Un nom doit contenir des lettres."),
        ("-", "Un nom doit contenir des lettres."),
        ("😀 李", "retirez « 😀 »"),
        ('=HYPERLINK("http://evil.x","<script>alert</script>")', "retirez « &quot; » « ( »"),
        ("Jean2", "retirez « 2 »"),
        ("ana@alpha.fr", "retirez « @ »"),
        ("Jean\tPaul", "retirez « U+0009 »"),  # an invisible character by its code
    ],
)
def test_a_name_that_is_not_one_is_refused_in_french_and_never_probed(
    mail_sandbox, member_client, workspace, name, error
):
    for first, last in [(name, "Roy"), ("Ana", name)]:
        response, _said = post(member_client, first_name=first, last_name=last, domain="alpha.fr")
        assert response.status_code == 200
        page = response.content.decode()
        assert error in page and "Un nom" in page
    assert not Contact.objects.for_workspace(workspace).exists()
    assert not EmailProbe.objects.unscoped().exists() and mail_sandbox.sessions == []


def test_names_in_any_script_with_their_accents_are_accepted(member_client, workspace, settings):
    settings.SOURCIER_SMTP_HELO = ""  # no probing: the address is found from DNS alone
    settings.SOURCIER_DNS_NAMESERVERS = ["127.0.0.1"]
    settings.SOURCIER_DNS_PORT = 9
    settings.SOURCIER_DNS_TIMEOUT = 0.2
    for first, last in [("Jean-Pierre", "N’Diaye"), ("李", "小龙"), ("J.", "d'Alembert")]:
        response, _said = post(member_client, first_name=first, last_name=last, domain="alpha.fr")
        assert response.status_code == 302, response.content.decode()
    assert Contact.objects.for_workspace(workspace).count() == 3

