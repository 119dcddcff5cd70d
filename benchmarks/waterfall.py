"""Benchmark: N prospects through the email waterfall (Prospeo → LeadMagic → FindyMail).

Starts the sandbox in its own process (so that the CPU measured is Sourcier's), creates the
prospects and one email job, lets a real Celery worker (thread pool, in this process so every
SQL query can be counted) run it while beat's sweeper is played every SOURCIER_SWEEP_SECONDS,
and prints prospects/second, its ratio to two ceilings (the concurrency limit over the
latency, and the vendors' registry rate limits), CPU ms and SQL queries per prospect (by
table), and the whole process's peak memory (RSS).

    .venv/bin/python benchmarks/waterfall.py                       # embedded SQLite, 200 ms
    .venv/bin/python benchmarks/waterfall.py --latency-ms 0 --postgres

Runs in a throw-away database (a temporary SQLite file, or a `sourcier_bench_waterfall`
PostgreSQL database, or --db-name's, dropped afterwards); nothing of the app's own data is touched.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from scratch import scratch_dir  # noqa: E402
from sql_names import statement_name  # noqa: E402
from waterfall_report import FINDERS, print_time_shares, probe_counts, report  # noqa: E402

DB_NAME = "sourcier_bench_waterfall"
KEY = "sandbox-key"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def configure(args: argparse.Namespace, sandbox_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["SOURCIER_VAR_DIR"] = scratch_dir("sourcier-bench-")
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ.setdefault("SOURCIER_FERNET_KEYS", "Z3gtq0jvOOfP4GEFBxcMayTTuLvOE_VVPS6VX3RftnU=")
    os.environ.setdefault("SOURCIER_SUPPRESSION_KEY", "benchmark-only")
    os.environ["SOURCIER_SANDBOX_URL"] = sandbox_url
    os.environ["LOG_LEVEL"] = "WARNING"
    if args.provider_rate:
        os.environ["SOURCIER_PROVIDER_RATES"] = ",".join(
            f"{vendor}={args.provider_rate}" for vendor in FINDERS
        )
    if args.provider_concurrency:
        os.environ["SOURCIER_PROVIDER_CONCURRENCIES"] = ",".join(
            f"{vendor}={args.provider_concurrency}" for vendor in FINDERS
        )
    if args.postgres:
        import psycopg

        with psycopg.connect(args.postgres_admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {args.db_name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {args.db_name}")
        os.environ["DATABASE_URL"] = args.postgres_admin_url.rsplit("/", 1)[0] + f"/{args.db_name}"
        os.environ["REDIS_URL"] = args.redis_url
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)


def drop_database(args: argparse.Namespace) -> None:
    import psycopg

    with psycopg.connect(args.postgres_admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {args.db_name} WITH (FORCE)")


def start_sandbox_process(args: argparse.Namespace, port: int, size: int) -> subprocess.Popen:
    """The sandbox in a child process (stopped however the run ends), once it answers."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    if "SOURCIER_VAR_DIR" not in env:
        env["SOURCIER_VAR_DIR"] = scratch_dir("sourcier-bench-sandbox-")
    proc = subprocess.Popen(
        [
            sys.executable, "manage.py", "run_sandbox", "--port", str(port),
            "--seed", str(args.seed), "--size", str(size),
            "--latency-ms", str(args.latency_ms), "--ready-after", "0",
            *(
                arg
                for vendor in FINDERS if args.provider_rate
                for arg in ("--rate-limit", f"{vendor}:{args.provider_rate}")
            ),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    atexit.register(proc.terminate)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("the sandbox did not start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.2)
    sys.exit("the sandbox did not answer within 60 s")


def sandbox_stats(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/_sandbox/stats", timeout=10) as answer:
        return json.load(answer)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prospects", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=200)
    parser.add_argument(
        "--concurrency", type=int, default=10, help="worker threads, or processes (prefork)"
    )
    parser.add_argument(
        "--pool",
        choices=["prefork", "threads"],
        default="prefork",
        help="a real prefork worker (as `make run` starts), or a thread pool in this process",
    )
    parser.add_argument(
        "--provider-rate",
        type=int,
        default=0,
        help="requests/s each finder allows (SOURCIER_PROVIDER_RATES, and the sandbox's own "
        "limit): a plan above the registry's default; 0 keeps the default",
    )
    parser.add_argument(
        "--provider-concurrency",
        type=int,
        default=0,
        help="calls at once each finder allows (SOURCIER_PROVIDER_CONCURRENCIES): a plan above "
        "the registry's 5, so that the worker threads are the bound; 0 keeps the default",
    )
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument(
        "--postgres-admin-url", default="postgres://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument(
        "--db-name", default=DB_NAME, help="the throw-away PostgreSQL database (dropped after)"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--timeout", type=float, default=1200)
    args = parser.parse_args()
    port = free_port()
    sandbox_url = f"http://127.0.0.1:{port}"
    configure(args, sandbox_url)
    if args.postgres:
        # Dropped however the run ends (FORCE closes this process's own connections).
        atexit.register(drop_database, args)
    size = max(60, args.prospects // 2 + 20)
    start_sandbox_process(args, port, size)
    run(args, sandbox_url, size)


def run(args: argparse.Namespace, sandbox_url: str, size: int) -> None:
    import django

    django.setup()
    from celery.contrib.testing.worker import start_worker
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from config.celery import app
    from enrichment import bulk, sweeper
    from enrichment.models import EnrichmentItem
    from enrichment.providers.registry import get_provider

    call_command("migrate", verbosity=0)
    sql = SqlCounter()
    sql.install()
    workspace, created = seed(args, size)
    app.conf.task_always_eager = False
    sweep = float(settings.CELERY_BEAT_SCHEDULE["dispatch-due-enrichment"]["schedule"])
    unit = "worker threads" if args.pool == "threads" else "worker processes (prefork)"
    print(
        f"{created} prospects, sandbox latency {args.latency_ms:.0f} ms, {connection.vendor}, "
        f"{args.concurrency} {unit}, sweeper every {sweep:g} s"
    )
    items = EnrichmentItem.objects.for_workspace(workspace)
    # Nothing but the job's work is counted: not the prospects' creation messages (their
    # workspace enriches nothing automatically) nor what an earlier run left in the broker.
    dropped = app.control.purge()
    print(f"messages dropped from the broker before the run: {dropped}")
    with worker(args, app, start_worker) as probe:
        cpu_before = cpu_seconds()
        sql.counting.set()
        started = time.monotonic()
        bulk.start_job(workspace, bulk.estimate_job(workspace.pk))
        last_sweep = started
        while time.monotonic() - started < args.timeout:
            with sql.not_counted():
                active = items.active().exists()
            if not active:
                break
            if time.monotonic() - last_sweep >= sweep:
                sweeper.dispatch_due_work()
                last_sweep = time.monotonic()
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        sql.counting.clear()
        cpu = cpu_seconds() - cpu_before
    if probe is not None:  # the pool processes' own statements and CPU
        for counts in probe_counts(probe):
            sql.by_table.update(counts["by_table"])
            sql.seconds += counts["sql_seconds"]
            cpu += counts["cpu_seconds"]
    stats = sandbox_stats(sandbox_url)
    report(args, items, created, elapsed, cpu, sql.by_table, stats, get_provider)
    print_time_shares(args, workspace, created, elapsed, sql.seconds)
    if connection.vendor == "postgresql":
        connection.close()


class SqlCounter:
    """Every statement the job's work runs, by verb and table, and the time they took (summed
    over the threads); the benchmark's own look at the job is not counted."""

    def __init__(self) -> None:
        self.by_table: Counter[str] = Counter()
        self.seconds = 0.0
        self.counting = threading.Event()
        self._lock = threading.Lock()
        self._polling = threading.local()

    def install(self) -> None:
        from django.db import connection
        from django.db.backends.signals import connection_created

        connection_created.connect(self._instrument)
        connection.ensure_connection()
        self._instrument(None, connection)

    @contextlib.contextmanager
    def not_counted(self):
        self._polling.on = True
        try:
            yield
        finally:
            self._polling.on = False

    def _instrument(self, sender, connection, **kwargs) -> None:
        # Celery closes connections between tasks: wrap each new connection once.
        if self._count not in connection.execute_wrappers:
            connection.execute_wrappers.append(self._count)

    def _count(self, execute, sql, params, many, context):
        if not self.counting.is_set() or getattr(self._polling, "on", False):
            return execute(sql, params, many, context)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            with self._lock:
                self.by_table[statement_name(sql)] += 1
                self.seconds += time.perf_counter() - started


def seed(args: argparse.Namespace, size: int):
    """The benchmark's workspace, its finders' keys and credit, and its prospects from the
    sandbox world: (workspace, prospects created)."""
    from enrichment import credentials
    from enrichment.engine import ledger
    from enrichment.sandbox.world import World
    from prospects import services as prospect_services
    from prospects.models import Workspace

    workspace = Workspace.objects.create(name="Benchmark", slug="benchmark", auto_enrich="none")
    for slug in FINDERS:
        credentials.set_api_key(workspace, slug, KEY)
    ledger.top_up(workspace.pk, Decimal("10000"), key="benchmark")
    world = World.build(args.seed, size)
    created = 0
    for data in world.prospect_data():
        try:
            prospect_services.create_prospect(workspace, data=data)
        except prospect_services.ProspectRejected:
            continue
        created += 1
        if created == args.prospects:
            break
    if created < args.prospects:
        sys.exit(f"the sandbox world gave only {created} prospects")
    return workspace, created


@contextlib.contextmanager
def worker(args: argparse.Namespace, app, start_worker):
    """The worker the job runs on: a thread pool in this process (every statement counted
    here), or a real prefork worker (`celery worker --pool prefork`, as in production), whose
    pool processes write their counts to a folder (benchmarks/worker_probe.py); yields it."""
    if args.pool == "threads":
        with start_worker(
            app,
            pool="threads",
            concurrency=args.concurrency,
            perform_ping_check=False,
            loglevel="ERROR",
        ):
            yield None
        return
    probe = scratch_dir("sourcier-bench-probe-")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "benchmarks.worker_probe", "--quiet", "worker",
            "--pool", "prefork", "--concurrency", str(args.concurrency), "--loglevel", "ERROR",
            "--without-heartbeat", "--without-gossip", "--without-mingle",
        ],
        cwd=ROOT,
        env={**os.environ, "BENCH_PROBE_DIR": probe},
    )  # fmt: skip
    atexit.register(proc.kill)
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit("the worker did not start")
    try:
        yield probe
    finally:
        proc.terminate()
        proc.wait(timeout=60)


if __name__ == "__main__":
    main()
