"""The sandbox's DNS and mail servers in a child process: they answer as in-process ones, and
what they recorded (sessions, RCPTs, DNS queries, the high-water mark) is read back."""

import os

from enrichment.discovery.dns import MailResolver
from enrichment.discovery.smtp import ProbeIdentity, SmtpSession
from enrichment.sandbox import mail_world as mw
from enrichment.sandbox.mail_process import MailSandboxProcess
from enrichment.sandbox.mail_world import MailPlan
from enrichment.sandbox.world import World

IDENTITY = ProbeIdentity("sonde.sourcier-demo.fr", "verification@sourcier-demo.fr")


def test_the_servers_answer_from_their_own_process_and_report_what_they_saw():
    world = World.build(7, 14)
    plan = MailPlan.build(world)
    person = next(
        p for p in world.people
        if plan.kinds.get(p.company.domain) == mw.NORMAL and p.mailbox_exists
        and p.company.domain not in plan.catch_all
    )  # fmt: skip
    domain = person.company.domain
    with MailSandboxProcess(plan) as servers:
        route = MailResolver(nameservers=("127.0.0.1",), port=servers.dns_port).route(domain)
        host = route.hosts[0]
        session = SmtpSession(host.name, host.addresses[0], servers.smtp_port, IDENTITY)
        session.open()
        replies = session.check_many([person.true_email, f"nobody-xyz@{domain}"])
        session.close()
        records = servers.snapshot()
        child = servers._process.pid

    assert child != os.getpid()
    assert [r.code for r in replies] == [250, 550]
    assert route.deliverable and records.total_queries >= 2  # the MX, then its host's A
    (seen,) = records.sessions
    assert seen.rcpts == [(person.true_email.lower(), 250), (f"nobody-xyz@{domain}", 550)]
    assert not seen.saw_data and not seen.saw_vrfy
    assert records.high_water == {seen.host: 1}
    assert records.cpu_seconds > 0
    assert servers._process is None  # stopped with the block
