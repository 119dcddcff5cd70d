"""A domain's people found together (`find_best_many`): the same verdicts and RCPTs as one at a
time, the probe rows written before anything is sent and in one statement per round, each
round one pipelined transaction, and a replay that sends nothing."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrichment.discovery import records
from enrichment.discovery.scheduling import NO_HOST, HostQueue
from enrichment.discovery.services import Discovery, recheck_due_probes
from enrichment.models import EmailProbe
from enrichment.sandbox import mail_world as mw


def largest_staff(world, plan, kind):
    by_domain = {}
    for person in world.people:
        domain = person.company.domain
        if plan.kinds.get(domain) == kind and domain not in plan.catch_all:
            by_domain.setdefault(person.company.domain, []).append(person)
    return max(by_domain.values(), key=len)


def names(staff):
    return [(p.first_name, p.last_name) for p in staff]


def test_a_domains_people_found_together_as_one_at_a_time(mail_sandbox, world, plan):
    staff = largest_staff(world, plan, mw.NORMAL)
    assert len(staff) >= 4
    domain = staff[0].company.domain
    with Discovery() as discovery, CaptureQueriesContext(connection) as queries:
        verdicts = discovery.find_best_many(names(staff), domain)

    for person, verdict in zip(staff, verdicts, strict=True):
        assert verdict.status == plan.expected_status(person)
        assert verdict.email == (person.true_email if person.mailbox_exists else "")
    rcpts = [address for s in mail_sandbox.sessions for address, _code in s.rcpts]
    probed = EmailProbe.objects.unscoped().filter(domain=domain, kind="address")
    # One probe row per address asked, each answered; no address asked twice.
    assert probed.count() == len(rcpts) - 1  # the catch-all check has its own row
    assert not probed.filter(status="pending").exists()
    assert len(set(rcpts)) == len(rcpts)
    # The people after the first asked in rounds: several RCPTs in one transaction, one
    # INSERT of probe rows per round instead of one per address.
    transactions = [
        c for s in mail_sandbox.sessions for c in " ".join(s.commands).split("MAIL FROM")
    ]
    assert max(t.count("RCPT TO") for t in transactions) >= 2
    inserts = [
        q
        for q in queries.captured_queries
        if q["sql"].startswith('INSERT INTO "enrichment_emailprobe"')
    ]
    assert len(inserts) < len(rcpts)
    # Each probe keeps its own recipient's part of the conversation.
    for probe in probed:
        assert f"RCPT TO:<{probe.email}>" in probe.transcript
        assert probe.transcript.count("RCPT TO") == 1


def test_a_batchs_rounds_read_no_probe_rows_of_their_own(mail_sandbox, world, plan):
    # The domains' probes are read once for the batch (with their confirmed patterns), not
    # once more by each round.
    staff = largest_staff(world, plan, mw.NORMAL)
    domain = staff[0].company.domain
    with Discovery() as discovery, CaptureQueriesContext(connection) as queries:
        discovery.find_best_many(names(staff), domain)
    sql = [q["sql"] for q in queries.captured_queries]
    rounds = [q for q in sql if q.startswith('INSERT INTO "enrichment_emailprobe"')]
    reads = [q for q in sql if q.startswith("SELECT") and '"enrichment_emailprobe"' in q]
    assert len(rounds) >= 3  # the catch-all check, then rounds of people
    # The catch-all check's last answer, the confirmed patterns, the domain's probes.
    assert len(reads) == 3, reads


def test_a_replayed_batch_sends_nothing(mail_sandbox, world, plan):
    staff = largest_staff(world, plan, mw.NORMAL)
    domain = staff[0].company.domain
    with Discovery() as discovery:
        first = discovery.find_best_many(names(staff), domain)
    rows = EmailProbe.objects.unscoped().count()
    mail_sandbox.reset()
    with Discovery() as discovery:
        again = discovery.find_best_many(names(staff), domain)
    assert [(v.email, v.status) for v in again] == [(v.email, v.status) for v in first]
    assert not any(s.rcpts for s in mail_sandbox.sessions)
    assert EmailProbe.objects.unscoped().count() == rows


def test_greylisted_people_settled_by_one_recheck_round(mail_sandbox, world, plan):
    staff = largest_staff(world, plan, mw.GREYLIST)
    domain = staff[0].company.domain
    with Discovery() as discovery:
        first = discovery.find_best_many(names(staff), domain)
    assert {v.reason for v in first} == {"greylisted"}
    later = timezone.now() + dt.timedelta(minutes=16)
    # Workers sharing a batch each recheck their own domains: another's are left due.
    assert recheck_due_probes(now=later, domains=["autre-domaine.example"]) == 0
    assert EmailProbe.objects.unscoped().filter(recheck_at__lte=later).exists()
    with CaptureQueriesContext(connection) as queries:
        rechecked = recheck_due_probes(now=later, domains=[domain])
    assert rechecked > 1
    # The domain's due rechecks claimed together (one transaction), not one UPDATE each.
    claims = [q for q in queries.captured_queries if 'SET "recheck_at" = NULL' in q["sql"]]
    assert len(claims) == 1
    # The due probes read are their addresses' latest: not looked up again by address.
    by_address = [
        q for q in queries.captured_queries
        if '"enrichment_emailprobe"."email" IN (' in q["sql"] and "= 'address'" in q["sql"]
    ]  # fmt: skip
    assert by_address == []
    assert not EmailProbe.objects.unscoped().filter(recheck_at__lte=later).exists()
    with Discovery(now=later) as discovery:
        settled = discovery.find_best_many(names(staff), domain)
    for person, verdict in zip(staff, settled, strict=True):
        assert verdict.status == plan.expected_status(person)
        assert verdict.email == (person.true_email if person.mailbox_exists else "")


def test_a_batch_sees_a_recheck_another_worker_made_since_it_read_its_probes(
    mail_sandbox, world, plan
):
    # A batch reads its domains' probes once. A due recheck another worker (beat) claimed
    # and answered meanwhile is read again: its newer answer counts, nothing is asked.
    staff = largest_staff(world, plan, mw.GREYLIST)
    domain = staff[0].company.domain
    with Discovery() as discovery:
        discovery.find_best_many(names(staff[:1]), domain)
    waiting = EmailProbe.objects.unscoped().filter(domain=domain, kind="address").first()
    later = timezone.now() + dt.timedelta(minutes=16)
    with Discovery(now=later) as discovery:
        discovery.read_probes_of([domain])
        assert recheck_due_probes(now=later, domains=[domain]) >= 1  # the other worker
        mail_sandbox.reset()
        route, _row = discovery.route(domain)
        found = discovery.probe_routes([(route, {waiting.email: waiting.pattern})])
        discovery.forget_probes()
    assert found[waiting.email].attempt == 2
    assert found[waiting.email].status != "deferred"
    assert not any(s.rcpts for s in mail_sandbox.sessions)


def test_a_due_recheck_is_claimed_by_one_caller_only(transactional_db):
    now = timezone.now()
    probes = [
        EmailProbe.objects.create(
            key=f"address:-:p{i}@gris.example:1", email=f"p{i}@gris.example",
            domain="gris.example", attempt=1, created_at=now, status="deferred",
            recheck_at=now - dt.timedelta(minutes=1),
        )
        for i in range(3)
    ]  # fmt: skip
    assert records.claim_recheck(probes[0])  # taken alone first
    assert records.claim_rechecks(probes) == {probes[1].pk, probes[2].pk}
    assert records.claim_rechecks(probes) == set()
    assert not records.claim_recheck(probes[2])


def test_host_queue_serves_each_host_at_its_concurrency_busiest_first():
    work = {"a.fr": 10, "b.fr": 12, "c.fr": 3, "lent.fr": 4, "rien.fr": 2}
    hosts = {"a.fr": "mx", "b.fr": "mx", "c.fr": "mx", "lent.fr": "slow", "rien.fr": NO_HOST}
    queue = HostQueue(per_host=2)
    for domain, people in work.items():
        queue.add(domain, hosts[domain], people)
    queue.close()
    assert queue.workers_wanted() == 4  # mx 2, slow 1, no host 1
    taken = [queue.take() for _ in range(4)]
    # The host with the most people first, its largest domain first; at most 2 on mx.
    assert taken == [("mx", "b.fr"), ("mx", "a.fr"), ("slow", "lent.fr"), (NO_HOST, "rien.fr")]
    queue.done("mx", "b.fr")
    assert queue.take() == ("mx", "c.fr")
    for host, domain in (("mx", "a.fr"), ("mx", "c.fr"), ("slow", "lent.fr"), (NO_HOST, "rien.fr")):
        queue.done(host, domain)
    assert queue.take() is None


def test_host_queue_wants_a_worker_more_only_for_those_held_up():
    """Without latency one worker does it all; each worker held up longer than the patience
    (a slow host) calls for one more, up to every host's slots, and the slow host's other
    slot is handed out first."""
    now, cpu = [100.0], [0.0]
    queue = HostQueue(
        per_host=2, patience=0.1, clock=lambda: now[0], cpu_clock=lambda: lambda: cpu[0]
    )
    work = (("a.fr", "mx", 9), ("b.fr", "mx", 8), ("e.fr", "mx", 7), ("c.fr", "slow", 2),
            ("d.fr", "slow", 1))  # fmt: skip
    for domain, host, people in work:
        queue.add(domain, host, people)
    queue.close()
    assert queue.workers_wanted() == 1  # nothing held up yet (4 without a patience)
    assert queue.take() == ("mx", "a.fr")
    now[0] += 0.05
    assert queue.workers_wanted() == 1
    now[0] += 0.2
    cpu[0] += 0.2
    assert queue.workers_wanted() == 1  # long, but computing: another would share its CPU
    queue.done("mx", "a.fr")
    now[0] += 1.0
    assert queue.workers_wanted() == 1
    # A host not tried yet goes before the busiest: a slow one shows itself early.
    assert queue.take() == ("slow", "c.fr")
    now[0] += 0.2  # held up by its host
    assert queue.workers_wanted() == 2
    # The host holding a worker up gets its other slot first, before the busier mx.
    assert queue.take() == ("slow", "d.fr")
    now[0] += 0.2
    assert queue.workers_wanted() == 3
    assert queue.take() == ("mx", "b.fr")
    now[0] += 0.2
    assert queue.workers_wanted() == 4
    assert queue.take() == ("mx", "e.fr")
    now[0] += 0.2
    assert queue.workers_wanted() == 4  # never more than the hosts' slots (mx 2, slow 2)
    for host, domain in (("slow", "c.fr"), ("slow", "d.fr"), ("mx", "b.fr"), ("mx", "e.fr")):
        queue.done(host, domain)
    assert queue.workers_wanted() == 1


def test_a_patient_queue_keeps_a_worker_on_its_last_host():
    """Once every host is tried and none holds anyone up, a worker goes on with its own last
    host's domains (its session still open) before the busiest host's."""
    queue = HostQueue(per_host=2, patience=0.1)
    for domain, host, people in (("a.fr", "mx", 9), ("b.fr", "mx", 8), ("c.fr", "mx2", 2),
                                 ("d.fr", "mx2", 1)):  # fmt: skip
        queue.add(domain, host, people)
    queue.close()
    assert queue.take() == ("mx", "a.fr")
    queue.done("mx", "a.fr")
    assert queue.take(last="mx") == ("mx2", "c.fr")  # not tried yet: first
    queue.done("mx2", "c.fr")
    assert queue.take(last="mx2") == ("mx2", "d.fr")  # its own host, though mx has more
    queue.done("mx2", "d.fr")
    assert queue.take(last="mx2") == ("mx", "b.fr")


def test_a_quick_hosts_domains_are_taken_together_a_slow_ones_one_by_one():
    """A worker takes its share of a host's waiting domains at once (asked side by side)
    only once the host has answered a domain quickly; a slow host's domains go out one by
    one, so both its places work. Domains taken together hold one place, not one each."""
    now, cpu = [100.0], [0.0]
    queue = HostQueue(
        per_host=2, patience=0.1, clock=lambda: now[0], cpu_clock=lambda: lambda: cpu[0]
    )
    for domain, host, people in (("a.fr", "mx", 9), ("b.fr", "mx", 8), ("c.fr", "mx", 7),
                                 ("d.fr", "mx", 6), ("e.fr", "mx", 5), ("f.fr", "mx", 4),
                                 ("s1.fr", "slow", 3), ("s2.fr", "slow", 2),
                                 ("s3.fr", "slow", 1)):  # fmt: skip
        queue.add(domain, host, people)
    queue.close()
    assert queue.take() == ("mx", "a.fr")
    assert queue.take_more("mx", 50) == []  # not seen answering yet
    now[0] += 0.05
    queue.done("mx", "a.fr")  # done within the patience: quick
    assert queue.take(last="mx") == ("slow", "s1.fr")
    now[0] += 0.5  # held up, not computing
    queue.done("slow", "s1.fr")
    assert queue.take_more("slow", 50) == []  # slow: never several at once
    assert queue.take(last="slow")[0] == "slow"
    now[0] += 0.2  # that one holds its worker up: another worker is wanted
    assert queue.workers_wanted() == 2
    assert queue.take() == ("slow", "s3.fr")  # the host holding someone up: its other place
    # The quick host: this worker's share of the 5 waiting (the host's other place free).
    assert queue.take() == ("mx", "b.fr")
    assert queue.take_more("mx", 50) == ["c.fr", "d.fr"]
    # Those rode along: the host's second place is still free for another worker.
    assert queue.take() == ("mx", "e.fr")
    assert queue.take_more("mx", 1) == ["f.fr"]
    for domain in ("b.fr", "c.fr", "d.fr", "e.fr", "f.fr"):
        queue.done("mx", domain)
    assert queue._busy["mx"] == 0


def test_a_lone_worker_takes_every_waiting_domain_of_a_quick_host_together():
    """Nobody held up, so one worker is all the batch wants: it shares a quick host's
    domains with nobody, and asks them side by side in one go rather than in halves."""
    now, cpu = [100.0], [0.0]
    queue = HostQueue(
        per_host=2, patience=0.1, clock=lambda: now[0], cpu_clock=lambda: lambda: cpu[0]
    )
    for index in range(6):
        queue.add(f"{index}.fr", "mx", 10 - index)
    queue.close()
    assert queue.take() == ("mx", "0.fr")
    queue.done("mx", "0.fr")  # within the patience: quick
    assert queue.take(last="mx") == ("mx", "1.fr")
    assert queue.workers_wanted() == 1
    assert queue.take_more("mx", 50) == ["2.fr", "3.fr", "4.fr", "5.fr"]


def test_a_greylisted_catch_all_check_is_not_read_again_before_its_recheck(
    mail_sandbox, world, plan
):
    domain = largest_staff(world, plan, mw.GREYLIST)[0].company.domain
    with Discovery() as discovery:
        route, row = discovery.route(domain)
        assert discovery.catch_all(route, row) == (None, "deferred")
        with CaptureQueriesContext(connection) as queries:
            answers = [discovery.catch_all(route, row) for _ in range(3)]
        later = Discovery(now=timezone.now() + dt.timedelta(minutes=16))
        with later, CaptureQueriesContext(connection) as after_the_delay:
            route, row = later.route(domain)
            assert later.catch_all(route, row) == (False, "")  # asked again: not catch-all
    assert answers == [(None, "deferred")] * 3
    assert queries.captured_queries == []  # neither asked nor read while greylisted
    assert any("enrichment_emailprobe" in q["sql"] for q in after_the_delay.captured_queries)
    catch_all_rcpts = [a for s in mail_sandbox.sessions for a, _c in s.rcpts if "-nobody@" in a]
    assert len(catch_all_rcpts) == 2


def test_someone_who_objected_is_never_probed_in_a_batch(mail_sandbox, world, plan, workspace):
    from prospects.models import SuppressionEntry
    from prospects.services import suppress_emails

    staff = largest_staff(world, plan, mw.NORMAL)
    objector = next(p for p in staff[1:] if p.true_email)
    suppress_emails(workspace.pk, [objector.true_email], reason=SuppressionEntry.Reason.OBJECTION)
    domain = staff[0].company.domain
    with Discovery(workspace_id=workspace.pk) as discovery:
        verdicts = discovery.find_best_many(names(staff), domain)
    # Without a workspace, every workspace's list counts.
    with Discovery() as discovery:
        unscoped = discovery.find_best_many(names(staff), domain)
    asked = {address for s in mail_sandbox.sessions for address, _code in s.rcpts}
    assert objector.true_email not in asked
    for verdict in (verdicts[staff.index(objector)], unscoped[staff.index(objector)]):
        assert (verdict.email, verdict.reason) == ("", "objected")
    assert any(v.status == "verified" for v in verdicts)


def test_a_workspaces_due_rechecks_are_not_hidden_behind_anothers(workspace, other_workspace):
    # The older rechecks of one workspace fill the first rows due: each workspace still reads
    # its own.
    now = timezone.now()
    rows = [
        {"workspace_id": ws.pk, "email": f"p{i}@exemple.example", "domain": "exemple.example",
         "attempt": 1, "now": now - dt.timedelta(hours=2 if ws == workspace else 1)}
        for ws in (workspace, other_workspace)
        for i in range(3 if ws == workspace else 1)
    ]  # fmt: skip
    records.start_probes(rows)
    EmailProbe.objects.unscoped().update(status="deferred")
    for probe in EmailProbe.objects.unscoped():
        EmailProbe.objects.unscoped().filter(pk=probe.pk).update(recheck_at=probe.created_at)
    assert records.workspaces_with_due_rechecks(now) == [workspace.pk, other_workspace.pk]
    theirs = records.due_rechecks(now, limit=2, workspace_id=other_workspace.pk)
    assert [p.workspace_id for p in theirs] == [other_workspace.pk]
    assert len(records.due_rechecks(now, limit=2, workspace_id=workspace.pk)) == 2
    assert records.due_rechecks(now, workspace_id=None) == []
