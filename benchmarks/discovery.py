"""Benchmark: in-house discovery of the sandbox world's people over its loopback DNS and SMTP.

Builds the world (--domains companies, --staff 8 12 people each), serves its DNS and mail
hosts on loopback from a child process (so the CPU measured is Sourcier's alone), and finds
every person's best address from worker threads (one `Discovery` each): every domain's DNS
is asked at once, each domain queued as its answer comes and handed out by mail host (at
most the host's concurrency of workers on one host; the hosts holding a worker up first,
then those not tried yet, then the one with the most people waiting). A worker takes its
share of a host's waiting domains at once and asks their people with `find_best_across`
(each domain's people in rounds, the domains' rounds side by side; a slow host's domains
one at a time, so that each of its places works). One worker starts, and one more each
time a worker has been waiting on the network for PATIENCE (a slow host): without latency,
one thread
does it all, with none of the lock and GIL contention of sixteen. Then plays beat's recheck
16 minutes later for the greylisted ones and asks again. Prints people/s, addresses/s, RCPTs
per person (overall and once the domain's pattern is known), DNS queries, SMTP sessions, and
the accuracy per class against the ground truth (verified: the true address, found and
verified; risky: catch-all or accept-all domains; unknown: a blocklisting host; invalid: no
mail or nobody there).

    .venv/bin/python benchmarks/discovery.py --domains 100
    .venv/bin/python benchmarks/discovery.py --domains 100 --delays   # 0.5 s DNS, 0.2 s SMTP

Runs in a temporary SQLite database, or with --postgres in a throw-away PostgreSQL database
(created, then dropped) with the limits and breakers in Redis (--redis-url: a database of
its own, emptied at the start); nothing of the app's own data is touched.

    .venv/bin/python benchmarks/discovery.py --postgres --redis-url redis://127.0.0.1:6379/7

With --processes N, N worker processes share the domains, as Celery's prefork pool would
(`discovery_processes.py`): each its own interpreter, all one database.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import os
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GREYLISTED = ("greylisted", "catch_all_unknown")
# A worker whose domain has taken longer than this is waiting on the network: one more starts.
PATIENCE = 0.1
# At most this many domains of one mail host taken by a worker at once (asked side by side).
DOMAINS_AT_ONCE = 50
sys.path.insert(0, str(ROOT))
from discovery_processes import run_in_processes  # noqa: E402
from discovery_report import DNS_DELAY, SMTP_DELAY, print_pattern_accuracy, report  # noqa: E402
from scratch import scratch_dir  # noqa: E402


def configure(args: argparse.Namespace) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["SOURCIER_VAR_DIR"] = scratch_dir("sourcier-bench-")
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ.setdefault("SOURCIER_FERNET_KEYS", "Z3gtq0jvOOfP4GEFBxcMayTTuLvOE_VVPS6VX3RftnU=")
    os.environ.setdefault("SOURCIER_SUPPRESSION_KEY", "benchmark-only")
    os.environ["LOG_LEVEL"] = "ERROR"
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    if args.postgres:
        import psycopg
        import redis

        with psycopg.connect(args.postgres_admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {args.db_name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {args.db_name}")
        # Dropped however the run ends (FORCE closes this process's own connections).
        atexit.register(drop_database, args)
        os.environ["DATABASE_URL"] = args.postgres_admin_url.rsplit("/", 1)[0] + f"/{args.db_name}"
        redis.Redis.from_url(args.redis_url).flushdb()  # no breaker or rate left from a run
        os.environ["REDIS_URL"] = args.redis_url


def drop_database(args: argparse.Namespace) -> None:
    import psycopg

    with psycopg.connect(args.postgres_admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {args.db_name} WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=100)
    parser.add_argument("--people", type=int, default=1000,
                        help="at most this many people, taken in turn from each company")
    parser.add_argument("--staff", type=int, nargs=2, default=(8, 12), metavar=("LEAST", "MOST"),
                        help="people per company (the tests' world has 2 to 6)")
    parser.add_argument("--threads", type=int, default=0,
                        help="worker threads (0: one, and one more for each held up by the "
                             "network, up to one per mail host slot the work can use)")
    parser.add_argument("--processes", type=int, default=1,
                        help="worker processes sharing the batch's domains, as Celery's prefork "
                             "pool does (1: one process and its threads)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--delays", action="store_true",
                        help="0.5 s on some domains' DNS answers, 0.2 s per reply on a slow host")
    parser.add_argument("--misses", action="store_true", help="list every wrong answer")
    parser.add_argument("--host-rate", type=int, default=1000,
                        help="RCPTs per second per mail host (SOURCIER_SMTP_HOST_RATE)")
    parser.add_argument("--postgres", action="store_true",
                        help="PostgreSQL and Redis instead of SQLite")
    parser.add_argument("--postgres-admin-url",
                        default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--db-name", default="sourcier_bench_discovery",
                        help="the throw-away PostgreSQL database (dropped after)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0",
                        help="with --postgres: a Redis database of its own (emptied at start)")
    args = parser.parse_args()
    configure(args)
    run(args)


def run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from config.heap import freeze_startup_heap
    from enrichment.sandbox.mail_world import MailPlan
    from enrichment.sandbox.world import World

    call_command("migrate", verbosity=0)
    world = World.build(args.seed, args.domains, staff=tuple(args.staff))
    plan = MailPlan.build(world, slow_dns_share=0.1 if args.delays else 0.0)
    servers = start_servers(args, plan)
    people = take_in_turn(world, args.people)
    # What a Celery worker does once started, before its pool forks (config/heap.py).
    freeze_startup_heap()
    if args.processes > 1:
        done = run_in_processes(args, people, first_pass, recheck_rounds)
        args.threads = done.threads
        verdicts, known_pattern_rcpts = done.verdicts, done.known_pattern_rcpts
        first, first_cpu, rechecked = done.first_pass, done.first_cpu, done.rechecked
        elapsed, cpu = done.elapsed, done.cpu
    else:
        started, cpu_started = time.perf_counter(), time.process_time()
        verdicts, known_pattern_rcpts = first_pass(args, people)
        first = time.perf_counter() - started
        first_cpu = time.process_time() - cpu_started
        rechecked = recheck_rounds(people, verdicts)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    records = servers.snapshot()
    servers.stop()
    # CPU seconds of Sourcier's processes alone (the sandbox's servers run in their own):
    # steadier than wall time on a shared machine.
    print(f"  CPU time          {cpu:.2f} s (first pass {first_cpu:.2f} s; the sandbox's "
          f"servers {records.cpu_seconds:.2f} s in their own process), load average "
          f"{' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    report(args, people, verdicts, plan, records, elapsed, first, rechecked,
           known_pattern_rcpts)
    print_pattern_accuracy(world)


def take_in_turn(world, count: int) -> list:
    """Up to `count` people, one from each company in turn, so every domain keeps its staff
    but the largest ones (world order kept within a company)."""
    by_company: dict[str, list] = defaultdict(list)
    for person in world.people:
        by_company[person.company.domain].append(person)
    chosen: set[int] = set()
    rank = 0
    while len(chosen) < count and any(rank < len(s) for s in by_company.values()):
        for staff in by_company.values():
            if rank < len(staff) and len(chosen) < count:
                chosen.add(id(staff[rank]))
        rank += 1
    return [person for person in world.people if id(person) in chosen]


def start_servers(args: argparse.Namespace, plan):
    """The world's DNS and mail hosts on loopback, in a process of their own (so the CPU and
    GIL measured are Sourcier's), and the settings that point at them."""
    from django.conf import settings

    from enrichment.sandbox.mail_process import MailSandboxProcess

    servers = MailSandboxProcess(
        plan,
        dns_slow_seconds=DNS_DELAY if args.delays else 0.0,
        smtp_slow_seconds=SMTP_DELAY if args.delays else 0.0,
    ).start()
    atexit.register(servers.stop)
    settings.SOURCIER_DNS_NAMESERVERS = ["127.0.0.1"]
    settings.SOURCIER_DNS_PORT = servers.dns_port
    settings.SOURCIER_SMTP_PORT = servers.smtp_port
    settings.SOURCIER_SMTP_HELO = "sonde.sourcier-demo.fr"
    settings.SOURCIER_SMTP_MAIL_FROM = "verification@sourcier-demo.fr"
    settings.SOURCIER_SMTP_HOST_RATE = args.host_rate
    settings.SOURCIER_SMTP_ALLOW_PRIVATE_HOSTS = True  # the sandbox's hosts are on 127.0.0.x
    return servers


def first_pass(args: argparse.Namespace, people: list) -> tuple[dict[int, object], list[int]]:
    """Every person once: DNS for every domain at once, then the domains handed to the
    worker threads by mail host (`HostQueue`), each domain's people asked together."""
    from django.conf import settings
    from django.db import connection

    from enrichment.discovery.scheduling import HostQueue, queue_as_routes_come
    from enrichment.discovery.services import Discovery

    by_domain: dict[str, list] = defaultdict(list)
    for person in people:
        by_domain[person.company.domain].append(person)
    # The first DNS answers come within a few tenths of a second: waiting that long lets the
    # largest domains of each host go first.
    work = HostQueue(
        per_host=getattr(args, "per_host", settings.SOURCIER_SMTP_HOST_CONCURRENCY),
        settle=0.0,
        patience=None if args.threads else PATIENCE,
    )
    results = Results()

    def worker() -> None:
        with Discovery() as discovery:
            work_off(discovery, work, by_domain, results)
        connection.close()

    threads: list[threading.Thread] = []

    def enough_workers() -> None:
        # One worker, and one more for each held up longer than PATIENCE by the network (a
        # slow host), up to every host's slots; or --threads from the start.
        wanted = args.threads or work.workers_wanted()
        while len(threads) < wanted:
            threads.append(threading.Thread(target=worker))
            threads[-1].start()

    lookups = threading.Thread(
        target=queue_as_routes_come,
        args=(work, {d: len(staff) for d, staff in by_domain.items()}),
    )
    lookups.start()
    enough_workers()
    while lookups.is_alive() or any(thread.is_alive() for thread in threads):
        time.sleep(PATIENCE / 2)
        enough_workers()
    for thread in threads:
        thread.join()
    lookups.join()
    args.threads = len(threads)
    return results.verdicts, results.known_pattern_rcpts


class Results:
    """The verdicts the worker threads found, and the RCPTs once a domain's pattern is known."""

    def __init__(self) -> None:
        self.verdicts: dict[int, object] = {}
        self.known_pattern_rcpts: list[int] = []
        self.lock = threading.Lock()


def work_off(discovery, work, by_domain: dict[str, list], results: Results) -> None:
    """One worker thread: domains taken by host until none is left (a quick host's waiting
    domains together, asked side by side in its session)."""
    last_host = None
    while (taken := work.take(last_host)) is not None:
        host, domain = taken
        if host != last_host and discovery.prober is not None:
            discovery.prober.end_sessions()  # the last host's slot, for the others
        last_host = host
        domains = [domain, *work.take_more(host, DOMAINS_AT_ONCE - 1)]
        try:
            found = ask_domains(discovery, {d: by_domain[d] for d in domains})
        finally:
            for done in domains:
                work.done(host, done)
        with results.lock:
            results.verdicts.update(found)
            for done in domains:
                results.known_pattern_rcpts.extend(rcpts_once_known(by_domain[done], found))


def ask_domains(discovery, by_domain: dict[str, list]) -> dict[int, object]:
    """Every person of these domains, the domains' rounds asked side by side."""
    staff = [person for people in by_domain.values() for person in people]
    found = discovery.find_best_across(
        [(person.first_name, person.last_name, person.company.domain) for person in staff]
    )
    return {id(person): verdict for person, verdict in zip(staff, found, strict=True)}


def rcpts_once_known(staff: list, found: dict[int, object]) -> list[int]:
    """RCPTs of each person after the first confirmed address of their domain."""
    rcpts, pattern_known = [], False
    for person in staff:
        verdict = found[id(person)]
        if pattern_known:
            rcpts.append(len(verdict.tried))
        # One confirmed address teaches the domain's pattern to the next one.
        pattern_known = pattern_known or verdict.status == "verified"
    return rcpts


def recheck_rounds(people: list, verdicts: dict[int, object], domains=None) -> int:
    """Beat's recheck 16 minutes later, then the greylisted people asked again.

    A pattern learned meanwhile can bring new candidates, greylisted in turn: up to three
    rounds. Returns how many addresses were rechecked.
    """
    from enrichment.discovery.services import Discovery, recheck_due_probes

    later = dt.datetime.now(tz=dt.UTC)
    rechecked = 0
    for _round in range(3):
        waiting = [p for p in people if verdicts[id(p)].reason in GREYLISTED]
        if not waiting:
            break
        later += dt.timedelta(minutes=16)
        rechecked += recheck_due_probes(now=later, domains=domains)
        by_domain: dict[str, list] = defaultdict(list)
        for person in waiting:
            by_domain[person.company.domain].append(person)
        with Discovery(now=later) as discovery:
            verdicts.update(ask_domains(discovery, by_domain))
    return rechecked


if __name__ == "__main__":
    main()
