"""Benchmark: N prospects through the whole Dropcontact path against the sandbox.

Creates the prospects (the hook asks a worker to queue them), lets a real Celery worker (thread
pool, in this process so every SQL query can be counted) queue, submit, poll and apply, plays
the beat sweeper, and prints prospects/second, queries per prospect, the ratio to the ceiling
that the concurrency limit allows and the whole process's peak memory (RSS).

    .venv/bin/python benchmarks/dropcontact_pipeline.py                 # embedded SQLite
    .venv/bin/python benchmarks/dropcontact_pipeline.py --postgres      # PostgreSQL + Redis

Runs in a throw-away database (a temporary SQLite file, or a `sourcier_bench` PostgreSQL
database that it drops afterwards); nothing of the app's own data is touched.
"""

from __future__ import annotations

import argparse
import atexit
import os
import resource
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from scratch import scratch_dir  # noqa: E402


def configure(args: argparse.Namespace) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["SOURCIER_VAR_DIR"] = scratch_dir("sourcier-bench-")
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ.setdefault("SOURCIER_FERNET_KEYS", "Z3gtq0jvOOfP4GEFBxcMayTTuLvOE_VVPS6VX3RftnU=")
    os.environ.setdefault("SOURCIER_SUPPRESSION_KEY", "benchmark-only")
    os.environ["SOURCIER_DROPCONTACT_POLL_INTERVAL"] = str(args.poll_interval)
    os.environ["LOG_LEVEL"] = "WARNING"
    if args.postgres:
        import psycopg

        with psycopg.connect(args.postgres_admin_url, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS sourcier_bench")
            conn.execute("CREATE DATABASE sourcier_bench")
        os.environ["DATABASE_URL"] = args.postgres_admin_url.rsplit("/", 1)[0] + "/sourcier_bench"
        os.environ["REDIS_URL"] = args.redis_url
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)


def drop_database(args: argparse.Namespace) -> None:
    import psycopg

    with psycopg.connect(args.postgres_admin_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS sourcier_bench WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prospects", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=200)
    parser.add_argument("--ready-after", type=float, default=0.0)
    parser.add_argument("--poll-interval", type=float, default=0.2)
    parser.add_argument("--threads", type=int, default=16, help="worker threads")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument(
        "--postgres-admin-url", default="postgres://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    configure(args)
    if args.postgres:
        # Dropped however the run ends (FORCE closes this process's own connections).
        atexit.register(drop_database, args)

    import django

    django.setup()
    from celery.contrib.testing.worker import start_worker
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.backends.signals import connection_created

    from config.celery import app
    from enrichment import credentials, sweeper
    from enrichment.engine import ledger
    from enrichment.models import EnrichmentItem
    from enrichment.providers.registry import get_provider
    from enrichment.sandbox.server import start_sandbox
    from prospects import services as prospect_services
    from prospects.models import Prospect, Source, Workspace

    call_command("migrate", verbosity=0)
    queries = 0
    lock = threading.Lock()

    def count(execute, sql, params, many, context):
        nonlocal queries
        with lock:
            queries += 1
        return execute(sql, params, many, context)

    def instrument(sender, connection, **kwargs):
        # Celery closes connections between tasks: count each connection's queries once.
        if count not in connection.execute_wrappers:
            connection.execute_wrappers.append(count)

    connection_created.connect(instrument)
    connection.ensure_connection()
    if count not in connection.execute_wrappers:
        connection.execute_wrappers.append(count)

    size = max(60, args.prospects // 3 + 10)
    sandbox = start_sandbox(seed=5, size=size, ready_after=args.ready_after)
    sandbox.set_faults("dropcontact", latency_ms=args.latency_ms)
    settings.PROVIDER_BASE_URLS["dropcontact"] = sandbox.base_url("dropcontact")
    people = sandbox.world.people[: args.prospects]
    if len(people) < args.prospects:
        sys.exit(f"the sandbox world has only {len(people)} people")

    workspace = Workspace.objects.create(name="Benchmark", slug="benchmark")
    credentials.set_api_key(workspace, "dropcontact", "sandbox-key")
    # Dropcontact is paid from the workspace's credits: enough for every record's most.
    ledger.top_up(workspace.pk, args.prospects, key="benchmark-top-up")
    app.conf.task_always_eager = False
    print(
        f"{len(people)} prospects, sandbox latency {args.latency_ms:.0f} ms, "
        f"{connection.vendor}, {args.threads} worker threads"
    )
    # The prospects arrive first (their items are queued by the creation hook); the clock
    # starts when the worker does, so the figure is the enrichment path's own.
    create_started = time.monotonic()
    created = 0
    for person in people:
        try:
            prospect_services.create_prospect(
                workspace,
                data={
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "company_name": person.company.name,
                    "company_website": person.company.website,
                },
                source=Source.IMPORT,
            )
        except prospect_services.ProspectRejected:
            continue
        created += 1
    create_elapsed = time.monotonic() - create_started
    items = EnrichmentItem.objects.for_workspace(workspace)
    with start_worker(
        app, pool="threads", concurrency=args.threads, perform_ping_check=False, loglevel="ERROR"
    ):
        queries = 0
        started = time.monotonic()
        while time.monotonic() - started < args.timeout:
            sweeper.dispatch_due_work()
            # A worker queues the new prospects: the work is settled once every prospect has
            # its item and none is still live (before the first item exists, none is live).
            if items.count() >= created and not items.active().exists():
                break
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        enrichment_queries = queries
    sandbox.stop()

    total = Prospect.objects.for_workspace(workspace).count()
    if not total or not elapsed:
        sys.exit("no prospect was created: nothing to measure")
    settled = items.filter(status="done").count()
    stats = sandbox.stats()
    calls = sum(
        n for endpoint in stats["counts"].get("dropcontact", {}).values() for n in endpoint.values()
    )
    spec = get_provider("dropcontact")
    limit = min(spec.concurrency, settings.PROVIDER_CONCURRENCY)
    batch = settings.DROPCONTACT_BATCH_SIZE
    if not calls:
        sys.exit("the sandbox saw no Dropcontact call: nothing was enriched")
    calls_per_batch = calls / max(1, -(-total // batch))
    # The most the concurrency limit allows: `limit` calls in flight, each lasting the vendor's
    # latency, and `calls_per_batch` calls to move one batch of `batch` prospects.
    ceiling = limit * batch / (calls_per_batch * max(args.latency_ms, 1) / 1000)
    rate = total / elapsed
    high_water = stats["high_water"]["dropcontact"]["sandbox-key"]
    print(f"prospects enriched        {settled} / {total}")
    print(f"creating them             {create_elapsed:.1f} s (one by one, not timed below)")
    print(f"enrichment wall time      {elapsed:.1f} s")
    print(f"prospects/second          {rate:.1f}")
    print(f"queries per prospect      {enrichment_queries / total:.1f}")
    print(f"Dropcontact calls         {calls} ({calls_per_batch:.1f} per batch of {batch})")
    print(f"high-water concurrency    {high_water} (limit {limit})")
    print(f"ceiling from the limit    {ceiling:.0f} prospects/s -> ratio {rate / ceiling:.2f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"peak memory (RSS)         {peak_mb:.0f} MB (whole process)")
    if settled < total:
        sys.exit(f"only {settled} of {total} prospects were enriched before the timeout")
    if connection.vendor == "postgresql":
        connection.close()


if __name__ == "__main__":
    main()
