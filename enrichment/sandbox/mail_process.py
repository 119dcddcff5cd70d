"""The sandbox's DNS and mail servers in a child process, their records read back on demand.

In the process that probes them, the servers would share its CPU and its GIL: a benchmark
would measure both sides at once. `MailSandboxProcess` forks a child that serves the same
`MailPlan` (inherited, not rebuilt) on loopback, tells its ports, and answers `snapshot()`
with what the servers recorded: every SMTP session (its commands and RCPTs), the per-host
high-water mark, the DNS queries, and the child's own CPU seconds.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections import Counter
from dataclasses import dataclass, field

from .dns_server import SandboxDNS
from .mail_world import MailPlan
from .smtp_server import SandboxSMTP, Session

START_TIMEOUT = 30.0


@dataclass(frozen=True)
class MailRecords:
    """What the servers saw, as of the snapshot."""

    sessions: list[Session] = field(default_factory=list)
    high_water: dict[str, int] = field(default_factory=dict)
    queries: Counter = field(default_factory=Counter)
    cpu_seconds: float = 0.0

    @property
    def total_queries(self) -> int:
        return sum(self.queries.values())


def _serve(conn, plan: MailPlan, dns_slow: float, smtp_slow: float, greylist: float) -> None:
    dns_server = SandboxDNS(plan, slow_seconds=dns_slow).start()
    smtp_server = SandboxSMTP(plan, slow_seconds=smtp_slow, greylist_seconds=greylist).start()
    conn.send((dns_server.port, smtp_server.port))
    try:
        while conn.recv() == "snapshot":
            with smtp_server._lock:
                sessions = list(smtp_server.sessions)
                high_water = dict(smtp_server.high_water)
            with dns_server._lock:
                queries = Counter(dns_server.queries)
            conn.send(MailRecords(sessions, high_water, queries, time.process_time()))
    except EOFError:
        pass  # the parent is gone
    dns_server.stop()
    smtp_server.stop()


class MailSandboxProcess:
    """`start()` forks the servers' process; `stop()` (or `with`) ends it."""

    def __init__(
        self,
        plan: MailPlan,
        *,
        dns_slow_seconds: float = 0.0,
        smtp_slow_seconds: float = 0.0,
        greylist_seconds: float = 0.0,
    ) -> None:
        self.plan = plan
        self.dns_slow_seconds = dns_slow_seconds
        self.smtp_slow_seconds = smtp_slow_seconds
        self.greylist_seconds = greylist_seconds
        self.dns_port = self.smtp_port = 0
        self._conn = None
        self._process = None

    def start(self) -> MailSandboxProcess:
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve,
            args=(
                child,
                self.plan,
                self.dns_slow_seconds,
                self.smtp_slow_seconds,
                self.greylist_seconds,
            ),
            daemon=True,
            name="sandbox-mail",
        )
        self._process.start()
        child.close()
        if not self._conn.poll(START_TIMEOUT):
            self.stop()
            raise RuntimeError("the sandbox's mail servers did not start")
        self.dns_port, self.smtp_port = self._conn.recv()
        return self

    def snapshot(self) -> MailRecords:
        self._conn.send("snapshot")
        return self._conn.recv()

    def stop(self) -> None:
        if self._process is None:
            return
        with contextlib.suppress(OSError):
            self._conn.send("stop")
        self._process.join(5)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._conn.close()
        self._process = None

    def __enter__(self) -> MailSandboxProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
