"""The project's Celery app, for a benchmark's real worker (`celery -A benchmarks.worker_probe
worker --pool prefork`): each pool process counts its SQL statements (by table) and their time,
and after each task writes them, with its CPU time, to BENCH_PROBE_DIR/<pid>.json, for the
benchmark to add up. Nothing else differs from `celery -A config worker`."""

from __future__ import annotations

import json
import os
import resource
import time
from collections import Counter
from pathlib import Path

from celery.signals import task_postrun, worker_process_init
from django.db.backends.signals import connection_created

from benchmarks.sql_names import statement_name
from config.celery import app

__all__ = ["app"]

_by_table: Counter[str] = Counter()
_state = {"sql_seconds": 0.0, "cpu_at_start": 0.0}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _count(execute, sql, params, many, context):
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        _by_table[statement_name(sql)] += 1
        _state["sql_seconds"] += time.perf_counter() - started


def _instrument(sender=None, connection=None, **kwargs) -> None:
    if _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)


@worker_process_init.connect
def _start_counting(**kwargs) -> None:
    from django.db import connections

    connection_created.connect(_instrument, weak=False)
    for connection in connections.all(initialized_only=True):
        _instrument(connection=connection)
    _state["cpu_at_start"] = _cpu()


@task_postrun.connect
def _write_counts(**kwargs) -> None:
    folder = os.environ.get("BENCH_PROBE_DIR")
    if not folder:
        return
    path = Path(folder) / f"{os.getpid()}.json"
    payload = {
        "by_table": dict(_by_table),
        "sql_seconds": _state["sql_seconds"],
        "cpu_seconds": _cpu() - _state["cpu_at_start"],
    }
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(payload))
    temporary.replace(path)
