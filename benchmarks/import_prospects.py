"""CSV import benchmark: rows per second and peak memory for a generated 100,000-row file.

    .venv/bin/python benchmarks/import_prospects.py [--rows N] [--postgres [URL]] [--with-receivers]
        [--db-prefix NAME_]

`--rows 1000000` measures a million-row file (the README gives both sizes). Runs on SQLite
(a temporary database) and, when DATABASE_URL is set or --postgres is given (127.0.0.1:5432,
user postgres, trust auth), on PostgreSQL in a throw-away database created and dropped on that
server. Each database runs in its own process, so settings and peak memory of one do not leak
into the other; the schema is migrated by a process of its own beforehand, as a deployment
does (a worker that imports never runs migrations). Everything is written to a temporary
directory, removed at the end with the PostgreSQL database, whatever happens.

Measured per database: the first import (everything new; wall clock, and process CPU time,
which a busy machine disturbs less; on PostgreSQL, the server's CPU time too, when it runs on
this machine), the same file again (everything a duplicate) and, with
tracemalloc on (slower, so not timed), the Python allocation peak; the whole process's peak
resident memory (RSS, everything: interpreter, Django, the database driver) is read right
after the first import and again after the second. Past 200,000 rows the second import and
the traced one are left out unless --all is given (they would triple a long run). Other
apps' receivers of `prospects_created` (enrichment queueing, run after each chunk commits) are
disconnected unless --with-receivers is given: they are theirs to benchmark.
Target: at least 10,000 rows/s, and at most 150 MB of whole-process peak RSS whatever the size.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["Prénom", "Nom", "E-mail", "Société", "Fonction", "Téléphone", "LinkedIn"]
TARGET_ROWS_PER_SECOND = 10_000
TARGET_PEAK_MB = 150
EXTRA_RUNS_UP_TO = 200_000  # rows: past this, the re-import and the traced run need --all


def generate(path: Path, rows: int, *, seed: int = 42) -> dict[str, int]:
    """A realistic Excel export: accented names, shared companies, a few bad and repeated rows."""
    from anyascii import anyascii
    from faker import Faker

    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    companies = []
    for n in range(max(rows // 20, 1)):
        name = fake.company()
        slug = "".join(c for c in anyascii(name).lower() if c.isalnum())[:30] or "societe"
        companies.append((name, f"{slug}{n}.example"))
    jobs = [fake.job() for _ in range(300)]
    written: list[list[str]] = []
    stats = {"rows": rows, "repeated": 0, "bad_email": 0}
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        for i in range(rows):
            if written and rng.random() < 0.01:
                row = rng.choice(written)
                stats["repeated"] += 1
            else:
                first, last = fake.first_name(), fake.last_name()
                company, domain = rng.choice(companies)
                local = "".join(
                    c for c in anyascii(f"{first}.{last}").lower() if c.isalnum() or c == "."
                )
                email = f"{local}{i}@{domain}"
                if rng.random() < 0.005:
                    email = email.replace("@", " at ")
                    stats["bad_email"] += 1
                phone = fake.phone_number() if rng.random() < 0.6 else ""
                linkedin = (
                    f"https://www.linkedin.com/in/{local.replace('.', '-')}-{i}"
                    if rng.random() < 0.5
                    else ""
                )
                row = [first, last, email, company, rng.choice(jobs), phone, linkedin]
                if len(written) < 5000:
                    written.append(row)
            writer.writerow(row)
    return stats


# --- One database, in a child process -------------------------------------------------------


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class ServerCpu:
    """CPU seconds the PostgreSQL server processes behind this process's connections spent,
    read from /proc (a server on this machine only; None otherwise): on a shared machine a
    wall-clock rate says little, CPU time says what the server did."""

    def __init__(self) -> None:
        from django.db import connection
        from django.db.backends.signals import connection_created

        self.ticks = os.sysconf("SC_CLK_TCK")
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.stop = threading.Event()
        connection_created.connect(self._created, weak=False)
        if connection.vendor == "postgresql":
            connection.ensure_connection()
            self._watch(connection.connection.info.backend_pid)
        threading.Thread(target=self._sample, daemon=True).start()

    def _created(self, sender, connection, **kwargs) -> None:
        if connection.vendor == "postgresql":
            self._watch(connection.connection.info.backend_pid)

    def _cpu(self, pid: int) -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / self.ticks  # utime + stime

    def _watch(self, pid: int) -> None:
        cpu = self._cpu(pid)
        if cpu is not None:
            self.first.setdefault(pid, cpu)
            self.last[pid] = cpu

    def _sample(self) -> None:
        while not self.stop.wait(0.05):
            for pid in list(self.first):
                if (cpu := self._cpu(pid)) is not None:
                    self.last[pid] = cpu

    def seconds(self) -> float | None:
        """Since the previous call (or the start)."""
        time.sleep(0.1)  # the last sample
        if not self.first:
            return None
        spent = sum(self.last[pid] - self.first[pid] for pid in self.first)
        self.first = dict(self.last)
        return spent


def _setup() -> None:
    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()


def migrate() -> None:
    _setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def worker(csv_path: Path, suppressed: int, *, with_receivers: bool, extra: bool) -> dict:
    _setup()
    from django.db import connection

    from prospects import imports, normalize, services
    from prospects.models import Workspace
    from prospects.signals import prospects_created

    if not with_receivers:
        prospects_created.receivers.clear()

    def import_once(workspace: Workspace) -> tuple[float, float, object]:
        with open(csv_path, "rb") as fh:
            batch = imports.create_batch(
                workspace, chunks=iter(lambda: fh.read(1 << 20), b""), filename=csv_path.name
            )
        started, cpu = time.perf_counter(), time.process_time()
        batch = imports.run_import(batch)
        return time.perf_counter() - started, time.process_time() - cpu, batch

    workspace = Workspace.objects.create(name="Banc d'essai", slug=f"banc-{uuid.uuid4().hex[:8]}")
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=";")
        next(reader)
        for row, _ in zip(reader, range(suppressed), strict=False):
            try:
                services.suppress_person(workspace, email=row[2])
            except normalize.InvalidValue:
                continue

    rss_before = _maxrss_mb()
    server = ServerCpu()
    server.seconds()
    first_seconds, first_cpu, first = import_once(workspace)
    server_cpu = server.seconds()
    server.stop.set()
    rss_peak = _maxrss_mb()
    rss_delta = rss_peak - rss_before
    again = traced_peak = None
    if extra:
        again_seconds, _cpu, again = import_once(workspace)
        rss_peak_again = _maxrss_mb()
        traced_ws = Workspace.objects.create(
            name="Banc mémoire", slug=f"mem-{uuid.uuid4().hex[:8]}"
        )
        tracemalloc.start()
        import_once(traced_ws)
        _current, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    return {
        "database": connection.vendor,
        "receivers": with_receivers,
        "rows": first.total_rows,
        "created": first.created_count,
        "duplicates": first.duplicate_count,
        "suppressed": first.suppressed_count,
        "invalid": first.invalid_count,
        "first_rows_per_s": first.total_rows / first_seconds,
        "first_cpu_rows_per_s": first.total_rows / first_cpu,
        "server_cpu_rows_per_s": first.total_rows / server_cpu if server_cpu else None,
        "again_rows_per_s": again.total_rows / again_seconds if again else None,
        "again_created": again.created_count if again else None,
        "rss_delta_mb": rss_delta,
        "rss_peak_mb": rss_peak,
        "rss_peak_again_mb": rss_peak_again if again else None,
        "tracemalloc_peak_mb": traced_peak / 1024 / 1024 if again else None,
    }


# --- Orchestration --------------------------------------------------------------------------


def run_child(label: str, csv_path: Path, var_dir: Path, url: str | None, args) -> dict:
    env = {
        **os.environ,
        "SOURCIER_VAR_DIR": str(var_dir),
        "SECRET_KEY": "benchmark-only",
        "SOURCIER_FERNET_KEYS": "Z3gtq0jvOOfP4GEFBxcMayTTuLvOE_VVPS6VX3RftnU=",
        "SOURCIER_SUPPRESSION_KEY": "benchmark-only",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    if url:
        env["DATABASE_URL"] = url
    print(f"… {label}", file=sys.stderr, flush=True)
    migrate_command = [sys.executable, __file__, "--migrate"]
    migrated = subprocess.run(
        migrate_command, env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if migrated.returncode != 0:
        sys.stderr.write(migrated.stderr)
        raise SystemExit(f"{label}: migrating failed")
    command = [sys.executable, __file__, "--worker", str(csv_path)]
    command += ["--suppressed", str(args.suppressed)]
    if args.with_receivers:
        command.append("--with-receivers")
    if args.all or args.rows <= EXTRA_RUNS_UP_TO:
        command.append("--all")
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{label}: benchmark failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


class ThrowAwayDatabase:
    """A fresh database on the given PostgreSQL server, dropped afterwards."""

    def __init__(self, server_url: str, prefix: str = "sourcier_bench_") -> None:
        self.parts = urlsplit(server_url)
        self.name = f"{prefix}{uuid.uuid4().hex[:10]}"

    def _admin(self):
        import psycopg

        return psycopg.connect(
            host=self.parts.hostname or "127.0.0.1",
            port=self.parts.port or 5432,
            user=self.parts.username or "postgres",
            password=self.parts.password,
            dbname="postgres",
            autocommit=True,
        )

    def __enter__(self) -> str:
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        return urlunsplit(self.parts._replace(path=f"/{self.name}"))

    def __exit__(self, *exc: object) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}".replace(",", " ")


def print_table(results: list[dict]) -> None:
    columns = [
        ("database", "base", str),
        ("rows", "lignes", _number),
        ("created", "créés", _number),
        ("duplicates", "doublons", _number),
        ("suppressed", "opposition", _number),
        ("invalid", "invalides", _number),
        ("first_rows_per_s", "import l/s", _number),
        ("first_cpu_rows_per_s", "l/s CPU", _number),
        ("server_cpu_rows_per_s", "l/s CPU serveur", _number),
        ("again_rows_per_s", "ré-import l/s", _number),
        ("rss_delta_mb", "RSS +Mo", _number),
        ("rss_peak_mb", "RSS pic Mo", _number),
        ("rss_peak_again_mb", "pic après ré-import", _number),
        ("tracemalloc_peak_mb", "tracemalloc Mo", _number),
    ]
    cells = [[show(r[key]) for key, _title, show in columns] for r in results]
    widths = [
        max(len(title), *(len(row[i]) for row in cells))
        for i, (_k, title, _s) in enumerate(columns)
    ]
    print("  ".join(title.rjust(w) for (_k, title, _s), w in zip(columns, widths, strict=True)))
    for row in cells:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
    for r in results:
        peak = max(r["rss_peak_mb"], r["rss_peak_again_mb"] or 0)
        ok = r["first_rows_per_s"] >= TARGET_ROWS_PER_SECOND and peak <= TARGET_PEAK_MB
        print(
            f"{r['database']} : {'objectif atteint' if ok else 'sous l’objectif'} "
            f"(≥ {_number(TARGET_ROWS_PER_SECOND)} lignes/s, ≤ {TARGET_PEAK_MB} Mo pour tout le "
            "processus)"
            + ("" if r["again_created"] is None else f" ; ré-import : {r['again_created']} créé")
            + (" ; avec les récepteurs des autres apps" if r["receivers"] else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--suppressed", type=int, default=200, help="emails on the objection list")
    parser.add_argument(
        "--postgres",
        nargs="?",
        const="postgres://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server URL (default: 127.0.0.1:5432, user postgres)",
    )
    parser.add_argument(
        "--with-receivers",
        action="store_true",
        help="keep other apps' prospects_created receivers connected",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help=f"the re-import and the traced run past {EXTRA_RUNS_UP_TO:,} rows too",
    )
    parser.add_argument(
        "--db-prefix",
        default="sourcier_bench_",
        help="name prefix of the throw-away PostgreSQL database (one per run, dropped after)",
    )
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--migrate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.migrate:
        migrate()
        return
    if args.worker:
        result = worker(
            args.worker, args.suppressed, with_receivers=args.with_receivers, extra=args.all
        )
        print(json.dumps(result))
        return

    # Stopped by a signal, the temporary files and the PostgreSQL database still go.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    server_url = os.environ.get("DATABASE_URL") or args.postgres
    with tempfile.TemporaryDirectory(prefix="sourcier-bench-") as tmp:
        tmp_path = Path(tmp)
        csv_path = tmp_path / "prospects.csv"
        started = time.perf_counter()
        stats = generate(csv_path, args.rows)
        print(
            f"Fichier : {_number(args.rows)} lignes, {csv_path.stat().st_size / 1e6:.1f} Mo "
            f"({stats['repeated']} répétées, {stats['bad_email']} e-mails invalides), "
            f"généré en {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        results = [run_child("SQLite", csv_path, tmp_path / "sqlite", None, args)]
        if server_url:
            with ThrowAwayDatabase(server_url, args.db_prefix) as url:
                results.append(run_child("PostgreSQL", csv_path, tmp_path / "pg", url, args))
        print_table(results)


if __name__ == "__main__":
    main()
