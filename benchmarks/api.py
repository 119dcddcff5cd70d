"""Benchmark: JSON API latency on loopback under a bounded load: the prospects list and the
creation of an enrichment job over many prospects, p50/p95.

Serves the app with gunicorn (as the Procfile does) on a free port, over a throw-away database
(a temporary SQLite file, or with --postgres a PostgreSQL database, `sourcier_bench_api` unless
--db-name says otherwise, + Redis), and sends `--clients` concurrent clients at it. Each job
creation is cancelled right after it is timed (outside the timing), so the same prospects serve
the next one; no worker runs, so the jobs' items only wait in the broker.

    .venv/bin/python benchmarks/api.py --prospects 1000 --requests 200 --postgres
    .venv/bin/python benchmarks/api.py --prospects 200 --requests 20     # a quick check

The load is bounded: each client sends its next request once the previous one is answered (a
closed loop), so at most `--clients` requests are in flight, fewer than gunicorn's 2 × 4 threads;
the list is also measured with a single client, whose wall time has no queueing of its own.

Each figure comes with the load average, the CPU time the gunicorn workers spent per request
(read from /proc, Linux only) and this process's own CPU time per request (the clients: were it
near the server's, the clients would be part of what is measured): on a shared machine the wall
time says as much about the others' load as about the request, the CPU time only about the
request (the database server's own work is not in it).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from scratch import scratch_dir  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def configure(args: argparse.Namespace) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["SOURCIER_VAR_DIR"] = scratch_dir("sourcier-bench-api-")
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ.setdefault("SOURCIER_FERNET_KEYS", "Z3gtq0jvOOfP4GEFBxcMayTTuLvOE_VVPS6VX3RftnU=")
    os.environ.setdefault("SOURCIER_SUPPRESSION_KEY", "benchmark-only")
    os.environ["LOG_LEVEL"] = "WARNING"
    # No collectstatic in a throw-away directory: whitenoise would say so in every worker.
    os.environ["PYTHONWARNINGS"] = "ignore:No directory at"
    # The load is the point: the per-key and per-address limits would stop it.
    os.environ["SOURCIER_API_RATE"] = os.environ["SOURCIER_API_IP_RATE"] = "1000000/m"
    if args.postgres:
        import psycopg

        with psycopg.connect(args.postgres_admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {args.db_name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {args.db_name}")
        os.environ["DATABASE_URL"] = args.postgres_admin_url.rsplit("/", 1)[0] + f"/{args.db_name}"
        os.environ["REDIS_URL"] = args.redis_url
        atexit.register(drop_database, args)
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)


def drop_database(args: argparse.Namespace) -> None:
    import psycopg

    with psycopg.connect(args.postgres_admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {args.db_name} WITH (FORCE)")


def seed(count: int) -> tuple[str, list[int]]:
    """A workspace with `count` new prospects, a Prospeo key and an admin API key."""
    import django

    django.setup()
    from django.core.management import call_command

    from enrichment import credentials
    from prospects.api_keys import create_api_key
    from prospects.models import Prospect, Workspace

    call_command("migrate", verbosity=0)
    workspace = Workspace.objects.create(name="Bench", slug="bench", auto_enrich="none")
    credentials.set_api_key(workspace, "prospeo", "bench-key-0000")
    rows = []
    for n in range(count):
        prospect = Prospect(
            workspace=workspace,
            first_name=f"Prénom{n}",
            last_name=f"Nom{n}",
            email=f"personne{n}@exemple.fr",
            source="import",
        )
        prospect.refresh_keys()
        rows.append(prospect)
    Prospect.objects.bulk_create(rows, batch_size=1000)
    ids = list(Prospect.objects.for_workspace(workspace).values_list("pk", flat=True))
    return create_api_key(workspace, name="bench", role="admin").secret, ids


def start_gunicorn(args: argparse.Namespace, port: int) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy())
    atexit.register(server.terminate)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


class Client:
    def __init__(self, base: str, secret: str) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict, float]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers=self.headers
        )
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        return status, json.loads(payload or b"{}"), time.perf_counter() - start


def cpu_seconds(pid: int, children: bool = True) -> float:
    """CPU time (user + system) of a process and of its children still running, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir() if children else ():
            pids += [int(c) for c in (task / "children").read_text().split()]
    for one in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


class DatabaseCpu:
    """CPU time of the PostgreSQL backends serving the benchmark's database (read from /proc
    every 0.2 s, so that a connection closed meanwhile still counts up to its last reading;
    autovacuum and the server's background writers are not in it)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.seen: dict[int, float] = {}

    def __enter__(self) -> DatabaseCpu:
        import threading

        import psycopg

        self.conn = psycopg.connect(self.args.postgres_admin_url, autocommit=True)
        self.first: dict[int, float] = {}
        self.stop = threading.Event()
        self.sample(first=True)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.sample()

    def sample(self, first: bool = False) -> None:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.args.db_name]
        ).fetchall()
        for (pid,) in rows:
            used = cpu_seconds(pid, children=False)
            if used:
                self.seen[pid] = used
                if first:
                    self.first[pid] = used

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()
        self.sample()
        self.conn.close()
        self.seconds = sum(used - self.first.get(pid, 0.0) for pid, used in self.seen.items())


def load() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def measure(label: str, count: int, clients: int, one, server_pid: int, database, untimed=()):
    """Run `one()` `count` times over `clients` threads; print p50/p95 of what it timed, and
    the server's CPU time per request (less the CPU seconds `one()` put in `untimed` for the
    requests it sent besides the timed one), and the database's (`database()`: a DatabaseCpu,
    with the untimed requests' share in it, or a null context)."""
    load_before, cpu_before = load(), cpu_seconds(server_pid)
    client_before = time.process_time()
    with database() as db_cpu, ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda _: one(), range(count)))
    server_cpu = (cpu_seconds(server_pid) - cpu_before - sum(untimed)) / count * 1000
    client_cpu = (time.process_time() - client_before) / count * 1000
    db_part = ""
    if db_cpu is not None:
        db_part = f"database CPU {db_cpu.seconds / count * 1000:.1f} ms, "
    times = sorted(t for ok, t in results if ok)
    errors = sum(1 for ok, _ in results if not ok)
    if len(times) < 2:
        print(f"{label}: not enough successful requests ({errors} errors)")
        return
    p50 = statistics.median(times) * 1000
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))] * 1000
    print(
        f"{label}: {len(times)} requests, {clients} concurrent clients: "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, {errors} errors; "
        f"server CPU {server_cpu:.1f} ms, {db_part}client CPU {client_cpu:.1f} ms per request; "
        f"load average {load_before} → {load()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prospects", type=int, default=1000, help="per job (and in the list)")
    parser.add_argument("--requests", type=int, default=200, help="per measured route")
    parser.add_argument("--job-requests", type=int, default=None, help="default: --requests / 4")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument(
        "--postgres-admin-url", default="postgres://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--db-name", default="sourcier_bench_api", help="dropped and made anew")
    args = parser.parse_args()
    configure(args)
    secret, ids = seed(args.prospects)
    port = free_port()
    server = start_gunicorn(args, port)
    client = Client(f"http://127.0.0.1:{port}/api/v1", secret)
    backend = "PostgreSQL + Redis" if args.postgres else "SQLite"
    print(f"{backend}, gunicorn {args.workers} workers × {args.threads} threads, loopback")

    for _ in range(5):  # warm-up: connections, imports
        client.call("GET", "/prospects?limit=50")

    def list_page():
        status, _body, elapsed = client.call("GET", "/prospects?limit=50&page=2")
        return status == 200, elapsed

    label = f"GET /prospects (50 of {len(ids)})"
    database = (lambda: DatabaseCpu(args)) if args.postgres else contextlib.nullcontext
    measure(label, args.requests, args.clients, list_page, server.pid, database)
    measure(label, args.requests, 1, list_page, server.pid, database)

    cancels: list[float] = []

    def create_job():
        status, body, elapsed = client.call(
            "POST", "/enrichment-jobs", {"prospect_ids": ids, "fields": ["email"]}
        )
        if status != 201:
            print("job refused:", status, body, file=sys.stderr)
            return False, elapsed
        before = cpu_seconds(server.pid)
        client.call("POST", f"/enrichment-jobs/{body['job']['id']}/cancel", {})
        cancels.append(cpu_seconds(server.pid) - before)
        return True, elapsed

    # One job at a time over the same prospects: each is cancelled before the next starts.
    jobs = args.job_requests or max(2, args.requests // 4)
    for _ in range(args.workers):  # warm-up: each worker's first job imports the task modules
        create_job()
    cancels.clear()
    label = f"POST /enrichment-jobs ({len(ids)} prospects)"
    if args.postgres:
        label += " (the database's CPU includes each job's cancel)"
    measure(label, jobs, 1, create_job, server.pid, database, cancels)


if __name__ == "__main__":
    main()
