"""What holds probing back, for every worker, and the warnings the admin shows meanwhile: a
mail host that answered with a blocklist reply, port 25 reachable nowhere, the daily budget."""

import datetime as dt

import hypothesis
import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from hypothesis import strategies as st

from enrichment.discovery.prober import WARNING_BUDGET
from enrichment.discovery.services import Discovery, verify_address
from enrichment.models import ProbeBudget, ProbingPause
from enrichment.sandbox import mail_world as mw

QUEUE = reverse("admin:enrichment_discoveredcontact_changelist")
HOME = reverse("admin:index")
TECHNIQUE = reverse("admin:technique")
BLOCKED_HOST = "block.sandbox-mail.example"


def staff_of(world, plan, kind):
    domain = plan.domain_of_kind(kind)
    return domain, [p for p in world.people if p.company.domain == domain]


def said(client, url):
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    return page, [str(m) for m in get_messages(response.wsgi_request)]


def test_a_blocklisted_host_is_a_warning_on_the_queue_the_home_and_technique(
    mail_sandbox, world, plan, member_client, admin_client_ws
):
    domain, _staff = staff_of(world, plan, mw.BLOCKLIST)
    assert verify_address(f"quelqu.un@{domain}").reason == "blocked_by_mail_host"
    pause = ProbingPause.objects.get()
    assert (pause.mail_host, pause.reason) == (BLOCKED_HOST, "blocked")
    assert pause.until > timezone.now() + dt.timedelta(hours=5)

    _page, messages = said(member_client, QUEUE)
    (warning,) = messages
    assert f"La sonde est suspendue pour le serveur de messagerie {BLOCKED_HOST}" in warning
    assert "liste de blocage" in warning and "5.7.1" in warning
    home, _ = said(member_client, HOME)
    assert 'class="home-alert probing-warning"' in home and BLOCKED_HOST in home
    _page, technique = said(admin_client_ws, TECHNIQUE)
    assert any(BLOCKED_HOST in m for m in technique)

    # Once the pause is over, nothing is said.
    ProbingPause.objects.update(until=timezone.now() - dt.timedelta(seconds=1))
    assert said(member_client, QUEUE)[1] == []
    assert "probing-warning" not in said(member_client, HOME)[0]


def test_a_catch_all_check_refused_is_not_asked_again_for_each_person(mail_sandbox, world, plan):
    # The blocklist reply pauses the host: each person looked at afterwards is told so, with
    # no catch-all row of their own (nothing would be asked anyway).
    from enrichment.models import EmailProbe

    domain, staff = staff_of(world, plan, mw.BLOCKLIST)
    assert len(staff) >= 2
    with Discovery() as discovery:
        verdicts = [discovery.find_best(p.first_name, p.last_name, domain) for p in staff]
    assert {v.status for v in verdicts} == {"unknown"}
    checks = EmailProbe.objects.unscoped().filter(kind="catch_all", domain=domain)
    assert list(checks.values_list("status", flat=True)) == ["blocked"]


def test_port_25_reachable_nowhere_is_a_warning_until_a_host_answers(
    mail_sandbox, settings, world, plan, member_client, unused_tcp_port
):
    port = settings.SOURCIER_SMTP_PORT
    settings.SOURCIER_SMTP_PORT = unused_tcp_port
    kinds = (mw.NORMAL, mw.GREYLIST, mw.SLOW, mw.BACKUP)
    with Discovery() as discovery:
        for kind in kinds:
            _domain, staff = staff_of(world, plan, kind)
            assert discovery.verify(staff[0].true_email).status == "unknown"
    _page, messages = said(member_client, QUEUE)
    (warning,) = messages
    assert "La sonde SMTP est désactivée" in warning
    assert f"le port {unused_tcp_port}" in warning and "jamais « invalides »" in warning
    assert "probing-warning" in said(member_client, HOME)[0]

    settings.SOURCIER_SMTP_PORT = port
    _domain, staff = staff_of(world, plan, mw.NORMAL)
    assert verify_address(staff[1].true_email).status == "verified"
    assert not ProbingPause.objects.exists()
    assert said(member_client, QUEUE)[1] == []


def test_the_daily_budget_stops_probing_with_unknown_never_invalid(
    mail_sandbox, settings, world, plan, member_client
):
    settings.SOURCIER_SMTP_DAILY_BUDGET = 3
    domain, staff = staff_of(world, plan, mw.NORMAL)
    with Discovery() as discovery:
        # The catch-all check and two addresses: the three RCPTs of the day.
        first = [discovery.verify(p.true_email) for p in staff[:2]]
        late = discovery.verify(staff[2].true_email)
        nobody = discovery.verify(f"personne.inconnue@{domain}")
        assert WARNING_BUDGET in discovery.warnings
    assert [v.status for v in first] == ["verified", "verified"]
    assert {(v.status, v.reason) for v in (late, nobody)} == {("unknown", "daily_budget_spent")}
    assert sum(len(s.rcpts) for s in mail_sandbox.sessions) == 3
    assert ProbeBudget.objects.get().used == 3

    # Another worker (another prober) finds the budget spent too.
    sessions = len(mail_sandbox.sessions)
    assert verify_address(f"personne.inconnue@{domain}").reason == "daily_budget_spent"
    assert len(mail_sandbox.sessions) == sessions
    _page, messages = said(member_client, QUEUE)
    assert any("budget de sondes SMTP du jour (3)" in m for m in messages)

    # A new day, a new budget; what was answered is not asked again.
    ProbeBudget.objects.update(day=timezone.localdate() - dt.timedelta(days=1))
    assert verify_address(staff[2].true_email).status == "verified"
    assert ProbeBudget.objects.get(day=timezone.localdate()).used == 1


def test_a_prober_gives_back_the_budget_it_did_not_use(mail_sandbox, settings, world, plan):
    settings.SOURCIER_SMTP_DAILY_BUDGET = 100
    _domain, staff = staff_of(world, plan, mw.NORMAL)
    with Discovery() as discovery:
        discovery.verify(staff[0].true_email)
        assert ProbeBudget.objects.get().used > 2  # reserved a few at a time
    assert ProbeBudget.objects.get().used == 2  # the catch-all check and the address


@pytest.mark.parametrize("budget", [0])
def test_no_daily_budget_means_no_counting(mail_sandbox, settings, world, plan, budget):
    settings.SOURCIER_SMTP_DAILY_BUDGET = budget
    _domain, staff = staff_of(world, plan, mw.NORMAL)
    assert verify_address(staff[0].true_email).status == "verified"
    assert not ProbeBudget.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_workers_sharing_the_budget_never_pass_it(settings):
    import threading

    from django.db import connection, connections

    from enrichment.discovery.guards import Budget

    if connection.vendor != "postgresql":
        pytest.skip("row locks under concurrency need PostgreSQL (the PostgreSQL pass runs this)")
    settings.SOURCIER_SMTP_HELO = "sonde.sourcier-demo.fr"
    taken = []
    barrier = threading.Barrier(8)

    def worker():
        try:
            budget = Budget(per_day=95)
            barrier.wait()
            count = 0
            while budget.take():
                count += 1
                if count % 7 == 0:
                    budget.give_back()  # a prober that closes, and the next one
            taken.append(count)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(taken) == 95
    assert ProbeBudget.objects.get().used == 95


@hypothesis.settings(max_examples=40, deadline=None,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(
    per_day=st.integers(min_value=0, max_value=180),
    asks=st.lists(st.integers(min_value=0, max_value=120), max_size=6),
)
def test_a_budget_grants_a_round_s_rcpts_together_never_past_the_day(db, settings, per_day, asks):
    """`take_many` gives the first RCPTs of a round as `take` would one by one: all while the
    day's budget lasts, the rest never; what one prober kept and did not use goes back."""
    from enrichment.discovery.guards import Budget

    settings.SOURCIER_SMTP_HELO = "sonde.sourcier-demo.fr"
    ProbeBudget.objects.all().delete()
    budget = Budget(per_day=per_day)
    granted = [budget.take_many(count) for count in asks]
    used = 0
    for count, got in zip(asks, granted, strict=True):
        expected = count if per_day == 0 else min(count, per_day - used)
        assert got == expected
        used += got
    budget.give_back()
    row = ProbeBudget.objects.first()
    assert (row.used if row else 0) == (0 if per_day == 0 else used)
