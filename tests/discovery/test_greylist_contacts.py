"""A discovered contact whose first answer was a greylisting deferral: the recheck answers
and the contact's best address, status and score are chosen again from it."""

import datetime as dt

from django.utils import timezone

from enrichment.discovery import checking, contacts
from enrichment.discovery.services import Discovery, recheck_due_probes
from enrichment.models import DiscoveredContact, EmailProbe
from enrichment.sandbox import mail_world as mw
from enrichment.webhooks.models import WebhookEndpoint, WebhookEvent

Contact = DiscoveredContact


def greylisted_person(world, plan):
    return next(
        p
        for p in world.people
        if plan.kinds.get(p.company.domain) == mw.GREYLIST
        and p.mailbox_exists
        and p.company.domain not in plan.catch_all
    )


def add(workspace, person):
    contact, _ = contacts.add_contact(
        workspace,
        first_name=person.first_name,
        last_name=person.last_name,
        domain=person.company.domain,
        method=Contact.Method.MANUAL,
        source="manual",
    )
    return contact


def test_the_recheck_chooses_the_contacts_best_address_again(mail_sandbox, world, plan, workspace):
    WebhookEndpoint.objects.create(
        workspace=workspace,
        url="http://127.0.0.1:9/hook",
        events=["discovery.contact_found"],
        encrypted_secret="",
    )
    person = greylisted_person(world, plan)
    contact = add(workspace, person)
    start = timezone.now()
    with Discovery(workspace_id=workspace.pk) as discovery:
        first = checking.check_contact(discovery, contact)
    contact.refresh_from_db()
    assert (first.status, first.reason) == ("unknown", "greylisted")
    assert (contact.email_status, contact.email_reason) == ("unknown", "greylisted")
    assert contact.email_score < 80 and person.true_email in contact.patterns_tried
    recheck_at = EmailProbe.objects.for_workspace(workspace).get(email=person.true_email).recheck_at
    assert recheck_at >= start + dt.timedelta(minutes=15)

    assert recheck_due_probes(now=start + dt.timedelta(minutes=14)) == 0
    contact.refresh_from_db()
    assert contact.email_reason == "greylisted"

    assert recheck_due_probes(now=start + dt.timedelta(minutes=16)) >= 1
    contact.refresh_from_db()
    assert (contact.email, contact.email_status, contact.email_reason) == (
        person.true_email,
        "verified",
        "mailbox_accepted",
    )
    assert contact.email_score >= 80
    rows = EmailProbe.objects.for_workspace(workspace).filter(email=person.true_email)
    assert [(r.attempt, r.status) for r in rows.order_by("attempt")] == [
        (1, "deferred"),
        (2, "accepted"),
    ]
    # The contact's event was sent once, at its first answer; a second recheck round has
    # nothing to do.
    events = WebhookEvent.objects.for_workspace(workspace).filter(type="discovery.contact_found")
    assert events.count() == 1
    sessions = len(mail_sandbox.sessions)
    assert recheck_due_probes(now=start + dt.timedelta(minutes=40)) == 0
    assert events.count() == 1 and len(mail_sandbox.sessions) == sessions


def test_a_decided_contact_keeps_what_was_decided_on(mail_sandbox, world, plan, workspace):
    person = greylisted_person(world, plan)
    contact = add(workspace, person)
    start = timezone.now()
    with Discovery(workspace_id=workspace.pk) as discovery:
        checking.check_contact(discovery, contact)
    contacts.reject_contacts(workspace, [contact.pk])
    assert recheck_due_probes(now=start + dt.timedelta(minutes=16)) >= 1
    contact.refresh_from_db()
    assert (contact.status, contact.email_reason) == ("rejected", "greylisted")
