"""The discovery benchmark's worker processes: the batch's domains shared between processes.

Sourcier's workers are processes (Celery's prefork pool, one per core by default), each with
its own interpreter: one process is bound to one core by its GIL. With `--processes N`, the
domains are shared between the processes (the largest first, each to the least loaded) and
each process finds its people as the one-process benchmark does (`first_pass`: its domains'
DNS, then its people; then its own rechecks). A mail host's concurrency is shared out
between them (2 slots, 2 processes: one session each at most; more processes than slots and
the database's slots make the extra ones wait). They share the one database, its limits and
breakers, as workers do.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Outcome:
    """What the processes did together (CPU: theirs and the parent's DNS)."""

    verdicts: dict[int, object]
    known_pattern_rcpts: list[int]
    first_pass: float
    elapsed: float
    first_cpu: float
    cpu: float
    rechecked: int
    threads: int


def share_by_domain(people: list, processes: int) -> list[list]:
    """The people split into at most `processes` shares, a domain's people in one share, the
    largest domains first, each to the share with the fewest people so far."""
    by_domain: dict[str, list] = defaultdict(list)
    for person in people:
        by_domain[person.company.domain].append(person)
    shares: list[list] = [[] for _ in range(processes)]
    for _domain, staff in sorted(by_domain.items(), key=lambda item: (-len(item[1]), item[0])):
        min(shares, key=len).extend(staff)
    return [share for share in shares if share]


def run_in_processes(
    args, people: list, first_pass: Callable, recheck_rounds: Callable
) -> Outcome:
    from django.conf import settings
    from django.db import connections

    started, cpu_started = time.perf_counter(), time.process_time()
    shares = share_by_domain(people, args.processes)
    # A mail host's slots shared out between the processes, so that together they never ask
    # for more than its concurrency (the database's slots would make the extra ones wait).
    args.per_host = max(1, settings.SOURCIER_SMTP_HOST_CONCURRENCY // len(shares))
    connections.close_all()  # each process opens its own
    context = multiprocessing.get_context("fork")
    channels, workers = [], []
    for share in shares:
        receive, send = context.Pipe(duplex=False)
        worker = context.Process(
            target=_work, args=(args, share, send, first_pass, recheck_rounds), daemon=True
        )
        worker.start()
        send.close()
        channels.append(receive)
        workers.append(worker)
    outcome = Outcome({}, [], 0.0, 0.0, time.process_time() - cpu_started, 0.0, 0, 0)
    for channel in channels:  # the first passes
        verdicts, known, cpu, threads = channel.recv()
        outcome.verdicts.update(verdicts)
        outcome.known_pattern_rcpts.extend(known)
        outcome.first_cpu += cpu
        outcome.threads += threads
    outcome.first_pass = time.perf_counter() - started
    outcome.cpu = outcome.first_cpu
    for channel in channels:  # the rechecks
        verdicts, rechecked, cpu = channel.recv()
        outcome.verdicts.update(verdicts)
        outcome.rechecked += rechecked
        outcome.cpu += cpu
    outcome.elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return outcome


def _work(args, people: list, channel, first_pass: Callable, recheck_rounds: Callable) -> None:
    """One process's share: its first pass, then its own domains' rechecks. The verdicts are
    keyed by the people's ids, the same in the parent (the process is a fork of it)."""
    cpu_started = time.process_time()
    verdicts, known = first_pass(args, people)
    first_cpu = time.process_time() - cpu_started
    channel.send((verdicts, known, first_cpu, args.threads))
    domains = {person.company.domain for person in people}
    rechecked = recheck_rounds(people, verdicts, domains=domains)
    channel.send((verdicts, rechecked, time.process_time() - cpu_started - first_cpu))
    channel.close()
