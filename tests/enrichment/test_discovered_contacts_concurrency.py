"""Approving discovered contacts while others approve or import at the same time: one
prospect per person and address, every refusal reported per contact, never a 500."""

from __future__ import annotations

import threading
import time

import pytest
from django.contrib.messages import get_messages
from django.db import connection, connections, transaction

from enrichment.discovery import contacts
from enrichment.models import DiscoveredContact
from prospects import services as prospect_services
from prospects.models import Prospect

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
Contact = DiscoveredContact
CHANGELIST = "/admin/enrichment/discoveredcontact/"


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks under concurrency need PostgreSQL (the PostgreSQL pass runs this)")


def found(workspace, first, last, email, company):
    contact, _ = contacts.add_contact(
        workspace,
        first_name=first,
        last_name=last,
        domain="alpha.fr",
        method=Contact.Method.WEBSITE,
        company=company,
    )
    contacts.record_address(contact, email=email, status="verified", score=92)
    return contact


def waiting_on_a_lock(count: int, timeout: float = 10.0) -> bool:
    """Wait until `count` other sessions are blocked on a row or index lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0] >= count:
                return True
        time.sleep(0.05)
    return False


class Holder(threading.Thread):
    """Another session that does `work` in a transaction and keeps it open until released."""

    def __init__(self, work):
        super().__init__()
        self.work, self.ready, self.release = work, threading.Event(), threading.Event()

    def run(self):
        try:
            with transaction.atomic():
                self.work()
                self.ready.set()
                self.release.wait(20)
        finally:
            connections.close_all()


def in_thread(call):
    out: dict[str, object] = {}

    def run():
        try:
            out["result"] = call()
        except Exception as error:  # reported to the test, never swallowed
            out["result"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def test_an_address_taken_meanwhile_is_reported_in_french_and_the_others_approved(
    workspace, member, member_client
):
    company = prospect_services.get_or_create_company(
        workspace, {"domain": "alpha.fr", "name": "Alpha"}
    )
    taken = found(workspace, "Hélène", "Ménard", "helene.menard@alpha.fr", company)
    free = found(workspace, "Bob", "Roy", "bob.roy@alpha.fr", company)
    # An import writes a prospect with Hélène's address and has not committed yet.
    holder = Holder(
        lambda: prospect_services.create_prospect(
            workspace,
            data={"first_name": "H", "last_name": "M", "email": "helene.menard@alpha.fr"},
        )
    )
    holder.start()
    assert holder.ready.wait(10)
    thread, out = in_thread(
        lambda: member_client.post(
            CHANGELIST, {"action": "approve", "_selected_action": [taken.pk, free.pk]}
        )
    )
    assert waiting_on_a_lock(1), "the approval should wait on the import's address"
    holder.release.set()
    holder.join(20)
    thread.join(30)

    response = out["result"]
    assert not isinstance(response, Exception), response
    assert response.status_code == 302
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("1 contact approuvé" in m for m in said), said
    assert any("helene.menard@alpha.fr est déjà prise par" in m for m in said), said
    free.refresh_from_db()
    taken.refresh_from_db()
    assert free.status == Contact.Status.APPROVED and free.prospect_id
    assert taken.status == Contact.Status.PENDING and taken.prospect_id is None
    assert (
        Prospect.objects.for_workspace(workspace).filter(email_key="helene.menard@alpha.fr").count()
        == 1
    )
    # Approved again, it is linked to the prospect that took the address.
    assert contacts.approve_contacts(workspace, [taken.pk]).done
    taken.refresh_from_db()
    assert taken.prospect.email == "helene.menard@alpha.fr" and taken.prospect.first_name == "H"


def test_one_contact_approved_by_two_people_at_once_makes_one_prospect(workspace, member):
    company = prospect_services.get_or_create_company(
        workspace, {"domain": "alpha.fr", "name": "Alpha"}
    )
    contact = found(workspace, "Hélène", "Ménard", "helene.menard@alpha.fr", company)
    holder = Holder(
        lambda: list(Contact.objects.unscoped().select_for_update().filter(pk=contact.pk))
    )
    holder.start()
    assert holder.ready.wait(10)
    runs = [
        in_thread(lambda: contacts.approve_contacts(workspace, [contact.pk], user=member))
        for _ in range(2)
    ]
    assert waiting_on_a_lock(2), "both approvals should wait on the contact's row"
    holder.release.set()
    holder.join(20)
    for thread, _out in runs:
        thread.join(30)

    decisions = [out["result"] for _thread, out in runs]
    assert not any(isinstance(d, Exception) for d in decisions), decisions
    assert sorted(len(d.done) for d in decisions) == [0, 1]
    (refused,) = [r for d in decisions for r in d.refused]
    assert "Déjà tranché" in refused[1]
    assert Prospect.objects.for_workspace(workspace).count() == 1
    contact.refresh_from_db()
    assert contact.status == Contact.Status.APPROVED
    assert contact.prospect == Prospect.objects.for_workspace(workspace).get()
