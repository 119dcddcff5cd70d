"""Each mail-host behaviour of the sandbox against the real prober, over loopback."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrichment.discovery.prober import (
    WARNING_BLOCKED,
    WARNING_PORT_BLOCKED,
    host_key,
    smtp_breaker,
)
from enrichment.discovery.services import (
    Discovery,
    find_best_address,
    recheck_due_probes,
    verify_address,
)
from enrichment.discovery.smtp import ProbeConfigError
from enrichment.models import EmailProbe, MailDomain
from enrichment.sandbox import mail_world as mw


def person_on(world, plan, kind, *, exists=True, catch_all=False):
    return next(
        p for p in world.people
        if plan.kinds.get(p.company.domain) == kind and p.mailbox_exists == exists
        and (p.company.domain in plan.catch_all) == catch_all
    )


def probes(email):
    return list(EmailProbe.objects.unscoped().filter(email=email).order_by("attempt"))


def test_one_connection_per_host_reused_for_many_rcpts_and_never_data(mail_sandbox, world, plan):
    domain = plan.domain_of_kind(mw.NORMAL)
    staff = [p for p in world.people if p.company.domain == domain]
    with Discovery() as discovery:
        verdicts = [discovery.verify(p.true_email) for p in staff]
        verdicts.append(discovery.verify(f"personne.inconnue@{domain}"))
    assert [v.status for v in verdicts] == ["verified"] * len(staff) + ["invalid"]
    assert verdicts[-1].reason == "mailbox_not_found"
    assert verdicts[-1].smtp_code == 550
    (session,) = mail_sandbox.sessions
    # The catch-all check, then every address, in the one transaction of the session.
    assert len(session.rcpts) == len(staff) + 2
    assert sum(c.startswith("MAIL FROM") for c in session.commands) == 1
    assert "RSET" not in session.commands
    assert not session.saw_data and not session.saw_vrfy
    probe = probes(staff[0].true_email)[0]
    assert f"RCPT TO:<{staff[0].true_email}>" in probe.transcript
    assert "S: 250 2.1.5 Ok" in probe.transcript


def test_a_replayed_verification_sends_nothing(mail_sandbox, world, plan):
    person = person_on(world, plan, mw.NORMAL)
    first = verify_address(person.true_email)
    sessions = len(mail_sandbox.sessions)
    again = verify_address(person.true_email)
    assert again == first
    assert len(mail_sandbox.sessions) == sessions
    assert len(probes(person.true_email)) == 1


def test_greylisting_schedules_a_recheck_whose_answer_replaces_it(mail_sandbox, world, plan):
    person = person_on(world, plan, mw.GREYLIST)
    before = timezone.now()
    verdict = verify_address(person.true_email)
    assert (verdict.status, verdict.reason, verdict.smtp_code) == ("unknown", "greylisted", 451)
    assert verdict.recheck_at >= before + dt.timedelta(minutes=15)
    # Asking again before the recheck is due sends nothing.
    sessions = len(mail_sandbox.sessions)
    assert verify_address(person.true_email).reason == "greylisted"
    assert len(mail_sandbox.sessions) == sessions
    assert recheck_due_probes(now=before + dt.timedelta(minutes=14)) == 0

    assert recheck_due_probes(now=before + dt.timedelta(minutes=16)) == 1
    rows = probes(person.true_email)
    assert [(r.attempt, r.status) for r in rows] == [(1, "deferred"), (2, "accepted")]
    assert rows[0].recheck_at is None
    with Discovery(now=before + dt.timedelta(minutes=17)) as discovery:
        final = discovery.verify(person.true_email)
    assert (final.status, final.reason) == ("verified", "mailbox_accepted")
    assert recheck_due_probes(now=before + dt.timedelta(hours=2)) == 0


def test_greylisting_past_the_recheck_limit_is_unknown(mail_sandbox, settings, world, plan):
    settings.SOURCIER_SMTP_MAX_RECHECKS = 1
    mail_sandbox.greylist_seconds = 10_000
    person = person_on(world, plan, mw.GREYLIST)
    start = timezone.now()
    verify_address(person.true_email)
    assert recheck_due_probes(now=start + dt.timedelta(minutes=16)) == 1
    assert recheck_due_probes(now=start + dt.timedelta(minutes=40)) == 0
    rows = probes(person.true_email)
    assert [(r.status, r.recheck_at) for r in rows] == [("deferred", None), ("deferred", None)]
    with Discovery(now=start + dt.timedelta(hours=1)) as discovery:
        assert discovery.verify(person.true_email).status == "unknown"
    assert len(probes(person.true_email)) == 2


def test_catch_all_is_decided_once_and_never_verified(mail_sandbox, world, plan):
    domain = next(iter(sorted(plan.catch_all)))
    staff = [p for p in world.people if p.company.domain == domain]
    verdicts = [verify_address(p.true_email) for p in staff]
    assert {(v.status, v.catch_all, v.reason) for v in verdicts} == {(
        "risky", True, "catch_all")}
    row = MailDomain.objects.get(domain=domain)
    assert row.catch_all is True
    rcpts = [r for s in mail_sandbox.sessions for r in s.rcpts]
    assert len(rcpts) == 1 and rcpts[0][0].endswith("-nobody@" + domain)


def test_a_dead_primary_hands_over_to_the_backup_mx(mail_sandbox, world, plan):
    person = person_on(world, plan, mw.BACKUP)
    verdict = verify_address(person.true_email)
    assert (verdict.status, verdict.mail_host) == ("verified", "backup.sandbox-mail.example")
    assert {s.host for s in mail_sandbox.sessions} == {"127.0.0.14"}


def test_a_blocklist_reply_opens_the_hosts_breaker_and_pauses_probing(mail_sandbox, world, plan):
    domain = plan.domain_of_kind(mw.BLOCKLIST)
    staff = [p for p in world.people if p.company.domain == domain]
    with Discovery() as discovery:
        first = discovery.verify(f"{staff[0].first_name.lower()}@{domain}")
        assert WARNING_BLOCKED in discovery.warnings
    assert (first.status, first.reason) == ("unknown", "blocked_by_mail_host")
    assert smtp_breaker().state_of(host_key("block.sandbox-mail.example")) == "open"
    sessions = len(mail_sandbox.sessions)
    later = verify_address(f"quelqu.un@{domain}")
    assert (later.status, later.reason) == ("unknown", "probing_paused")
    assert len(mail_sandbox.sessions) == sessions


def test_an_outlook_style_yes_is_risky_with_its_reason(mail_sandbox, world, plan):
    domain = plan.domain_of_kind(mw.ACCEPT_ALL)
    verdict = verify_address(f"nimporte.qui@{domain}")
    assert verdict.status == "risky"
    assert verdict.reason == "accept_all_provider:microsoft"


def test_unreachable_port_everywhere_is_unknown_never_invalid(
    mail_sandbox, settings, world, plan, unused_tcp_port
):
    settings.SOURCIER_SMTP_PORT = unused_tcp_port
    kinds = (mw.NORMAL, mw.GREYLIST, mw.SLOW, mw.BACKUP)
    with Discovery() as discovery:
        verdicts = [discovery.verify(person_on(world, plan, k).true_email) for k in kinds]
        assert WARNING_PORT_BLOCKED in discovery.warnings
        gone = person_on(world, plan, mw.NORMAL, exists=False)
        verdicts.append(discovery.verify(f"{gone.first_name.lower()}@{gone.company.domain}"))
    assert {(v.status, v.reason) for v in verdicts} == {("unknown", "smtp_unreachable")}
    assert mail_sandbox.sessions == []


@pytest.mark.parametrize("limit", [1, 2])
def test_per_host_concurrency_high_water_mark(mail_sandbox, settings, world, plan, limit):
    if connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database is not shared by threads")
    settings.SOURCIER_SMTP_HOST_CONCURRENCY = limit
    domain = plan.domain_of_kind(mw.SLOW)
    MailDomain.objects.create(domain=domain, catch_all=False, catch_all_checked_at=timezone.now())
    errors = []

    def work(index):
        try:
            verify_address(f"personne{index}@{domain}", workspace_id=None)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(mail_sandbox.sessions_on("127.0.0.12")) == 6
    assert mail_sandbox.high_water["127.0.0.12"] == limit


def test_find_best_stops_at_the_first_confirmed_mailbox(mail_sandbox, world, plan):
    domain = plan.domain_of_kind(mw.NORMAL)
    first, second = [p for p in world.people if p.company.domain == domain][:2]
    found = find_best_address(first.first_name, first.last_name, domain)
    assert found.email == first.true_email
    assert found.tried[-1] == first.true_email
    # The first find taught the domain's pattern: the next person takes one RCPT.
    again = find_best_address(second.first_name, second.last_name, domain)
    assert again.email == second.true_email
    assert again.tried == (second.true_email,)


def test_someone_who_left_has_no_address(mail_sandbox, world, plan):
    gone = person_on(world, plan, mw.NORMAL, exists=False)
    verdict = find_best_address(gone.first_name, gone.last_name, gone.company.domain)
    assert (verdict.email, verdict.status, verdict.reason) == ("", "invalid", "no_mailbox_found")
    assert 1 <= len(verdict.tried) <= 10


@pytest.mark.parametrize(
    ("helo", "sender"),
    [("localhost", "verif@sourcier-demo.fr"), ("sonde.sourcier-demo.fr", "verif@example.com"),
     ("", "verif@sourcier-demo.fr"), ("mx.exemple.example", "verif@sourcier-demo.fr")],
)
def test_probing_refuses_localhost_and_example_identities(mail_sandbox, settings, helo, sender):
    settings.SOURCIER_SMTP_HELO, settings.SOURCIER_SMTP_MAIL_FROM = helo, sender
    with pytest.raises(ProbeConfigError, match="SOURCIER_SMTP"):
        verify_address("jean.dupont@exemple.fr")
    assert mail_sandbox.sessions == []


def test_the_recheck_task_runs_twice_with_the_same_result(mail_sandbox, settings, world, plan):
    from enrichment.tasks import recheck_email_probes_task

    person = person_on(world, plan, mw.GREYLIST)
    verify_address(person.true_email)
    EmailProbe.objects.unscoped().filter(email=person.true_email).update(
        recheck_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert recheck_email_probes_task() == "rechecked 1"
    assert recheck_email_probes_task() == "rechecked 0"
    assert [p.status for p in probes(person.true_email)] == ["deferred", "accepted"]


def test_the_recheck_task_says_when_probing_is_not_configured(mail_sandbox, settings, world, plan):
    from enrichment.tasks import recheck_email_probes_task

    person = person_on(world, plan, mw.GREYLIST)
    verify_address(person.true_email)
    EmailProbe.objects.unscoped().filter(email=person.true_email).update(
        recheck_at=timezone.now() - dt.timedelta(seconds=1)
    )
    settings.SOURCIER_SMTP_HELO = ""
    assert recheck_email_probes_task() == "probing not configured"
    assert len(probes(person.true_email)) == 1


def test_a_greylisted_person_is_found_after_one_recheck_round(mail_sandbox, world, plan):
    person = person_on(world, plan, mw.GREYLIST)
    domain = person.company.domain
    start = timezone.now()
    first = find_best_address(person.first_name, person.last_name, domain)
    assert (first.status, first.reason) == ("unknown", "greylisted")
    # Every candidate was asked, so one recheck round answers them all.
    assert person.true_email in first.tried
    assert recheck_due_probes(now=start + dt.timedelta(minutes=16)) == len(first.tried)
    sessions = len(mail_sandbox.sessions)
    with Discovery(now=start + dt.timedelta(minutes=17)) as discovery:
        found = discovery.find_best(person.first_name, person.last_name, domain)
    assert (found.email, found.status) == (person.true_email, "verified")
    assert len(mail_sandbox.sessions) == sessions  # read back from the rechecks


def test_mail_hosts_on_private_addresses_are_never_probed(mail_sandbox, settings, world, plan):
    settings.SOURCIER_SMTP_ALLOW_PRIVATE_HOSTS = False
    person = person_on(world, plan, mw.NORMAL)
    with Discovery() as discovery:
        verdict = discovery.verify(person.true_email)
        assert "mail_host_not_public" in discovery.warnings
    assert (verdict.status, verdict.reason) == ("unknown", "smtp_unreachable")
    assert mail_sandbox.sessions == []


def test_nobody_on_the_objection_list_is_ever_probed(
    mail_sandbox, workspace, other_workspace, world, plan
):
    from prospects.models import SuppressionEntry
    from prospects.services import suppress_emails

    person = person_on(world, plan, mw.NORMAL)
    suppress_emails(workspace.pk, [person.true_email], reason=SuppressionEntry.Reason.OBJECTION)
    verdict = verify_address(person.true_email, workspace_id=workspace.pk)
    found = find_best_address(person.first_name, person.last_name, person.company.domain,
                              workspace_id=workspace.pk)
    assert (verdict.status, verdict.reason) == ("unknown", "objected")
    assert (found.email, found.reason) == ("", "objected")
    assert mail_sandbox.sessions == []
    assert not EmailProbe.objects.for_workspace(workspace).exists()
    # Without a workspace, every workspace's list counts: objections fail closed.
    assert verify_address(person.true_email).reason == "objected"
    assert mail_sandbox.sessions == []
    # Another workspace's list says nothing about this one.
    assert verify_address(person.true_email, workspace_id=other_workspace.pk).status == "verified"


def test_the_recheck_task_is_silent_with_nothing_due(db, settings, caplog):
    import logging

    from enrichment.tasks import recheck_email_probes_task

    settings.SOURCIER_SMTP_HELO = ""  # not even configured: nothing due, nothing to say
    with caplog.at_level(logging.DEBUG):
        assert recheck_email_probes_task() == "rechecked 0"
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []


def test_two_workers_never_wait_for_each_others_idle_sessions(mail_sandbox, settings, world, plan):
    """Each worker keeps its session to one host and then asks the other's host (one slot per
    host): it gives its own up while it waits, so both are answered at once."""
    if connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database is not shared by threads")
    settings.SOURCIER_SMTP_HOST_CONCURRENCY = 1
    normal = person_on(world, plan, mw.NORMAL)
    slow = person_on(world, plan, mw.SLOW)
    for person in (normal, slow):
        MailDomain.objects.get_or_create(
            domain=person.company.domain,
            defaults={"catch_all": False, "catch_all_checked_at": timezone.now()},
        )
    both_open = threading.Barrier(2, timeout=30)
    verdicts, errors = {}, []

    def work(name, first, then):
        try:
            with Discovery() as discovery:
                discovery.verify(first.true_email)
                both_open.wait()
                # Someone nobody asked about yet: a question the host itself must answer.
                verdicts[name] = discovery.verify(f"personne.inconnue@{then.company.domain}")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    started = time.monotonic()
    threads = [
        threading.Thread(target=work, args=("a", normal, slow)),
        threading.Thread(target=work, args=("b", slow, normal)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert {(v.status, v.reason) for v in verdicts.values()} == {
        ("invalid", "mailbox_not_found")
    }, verdicts
    # Waiting out the other's slot would take the SMTP timeout twice over.
    assert time.monotonic() - started < settings.SOURCIER_SMTP_TIMEOUT * 2


def largest_normal_staff(world, plan):
    by_domain = {}
    for person in world.people:
        domain = person.company.domain
        if plan.kinds.get(domain) == mw.NORMAL and domain not in plan.catch_all:
            by_domain.setdefault(domain, []).append(person)
    return max(by_domain.values(), key=len)


def test_a_full_session_hands_over_to_the_next_on_the_same_slot(
    mail_sandbox, settings, world, plan
):
    """Past SOURCIER_SMTP_RCPTS_PER_SESSION a new session opens; with the host's other slot
    free nobody waits for it, so the next session goes on with the same slot: one lease
    taken for the whole run, never more sessions at once than before."""
    settings.SOURCIER_SMTP_RCPTS_PER_SESSION = 2
    staff = largest_normal_staff(world, plan)
    assert len(staff) >= 4
    with Discovery() as discovery, CaptureQueriesContext(connection) as queries:
        verdicts = [discovery.verify(p.true_email) for p in staff]
    assert {v.status for v in verdicts} == {"verified"}
    assert len(mail_sandbox.sessions) >= 3
    assert all(len(s.rcpts) <= 2 for s in mail_sandbox.sessions)
    taken = [
        q for q in queries.captured_queries
        if q["sql"].startswith('INSERT INTO "enrichment_providerlease"')
    ]  # fmt: skip
    assert len(taken) == 1


def test_a_breaker_opened_meanwhile_stops_a_session_handing_over(
    mail_sandbox, settings, world, plan
):
    """A block another worker saw while this session ran wins at the hand-over: no new
    session, and the next address waits for the pause."""
    settings.SOURCIER_SMTP_RCPTS_PER_SESSION = 3
    staff = largest_normal_staff(world, plan)
    with Discovery() as discovery:
        first = discovery.verify(staff[0].true_email)  # the catch-all check, then this one
        breaker = smtp_breaker()
        breaker.after_call(breaker.before_call(host_key(first.mail_host)), ok=False)
        second = discovery.verify(staff[1].true_email)  # the session's last RCPT
        third = discovery.verify(staff[2].true_email)
    assert (first.status, second.status) == ("verified", "verified")
    assert (third.status, third.reason) == ("unknown", "probing_paused")
    assert len(mail_sandbox.sessions) == 1


def test_a_half_open_breakers_trial_session_ends_and_closes_it(
    mail_sandbox, settings, world, plan
):
    """After a pause, the first session is the breaker's one trial: once full, it ends (and
    closes the breaker for every worker) rather than handing its trial to a successor."""
    settings.SOURCIER_SMTP_RCPTS_PER_SESSION = 2
    settings.SOURCIER_SMTP_BLOCK_PAUSE_SECONDS = 0.2
    staff = largest_normal_staff(world, plan)
    with Discovery() as discovery:
        first = discovery.verify(staff[0].true_email)
    key = host_key(first.mail_host)
    breaker = smtp_breaker()
    breaker.after_call(breaker.before_call(key), ok=False)  # a block seen elsewhere
    assert breaker.state_of(key) == "open"
    time.sleep(0.3)  # the pause is over: the next session is the trial
    with Discovery() as discovery:
        discovery.verify(staff[1].true_email)
        discovery.verify(staff[2].true_email)  # fills the trial session
        assert smtp_breaker().state_of(key) == "closed"
        assert discovery.verify(staff[3].true_email).status == "verified"


def test_a_greylisted_address_whose_person_objected_since_is_dropped_from_the_rechecks(
    mail_sandbox, workspace, world, plan
):
    from prospects.models import SuppressionEntry
    from prospects.services import suppress_emails

    person = person_on(world, plan, mw.GREYLIST)
    before = timezone.now()
    verdict = verify_address(person.true_email, workspace_id=workspace.pk)
    assert verdict.reason == "greylisted"
    suppress_emails(workspace.pk, [person.true_email], reason=SuppressionEntry.Reason.OBJECTION)
    rcpts = sum(len(s.rcpts) for s in mail_sandbox.sessions)
    later = before + dt.timedelta(minutes=16)
    recheck_due_probes(now=later)
    assert sum(len(s.rcpts) for s in mail_sandbox.sessions) == rcpts  # not asked again
    # No longer due: it would otherwise come back first at every recheck.
    assert not EmailProbe.objects.for_workspace(workspace).filter(recheck_at__lte=later).exists()
