"""The waterfall benchmark's figures: prospects/second and its ceilings, vendor calls, CPU
and SQL per prospect, memory (benchmarks/waterfall.py prints them)."""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

FINDERS = ("prospeo", "leadmagic", "findymail")


def calls_by_vendor(stats: dict) -> dict[str, int]:
    """Calls each finder answered for the question asked (its own 429s left out)."""
    return {
        vendor: sum(
            n
            for outcomes in stats["counts"].get(vendor, {}).values()
            for outcome, n in outcomes.items()
            if outcome != "rate_limited"
        )
        for vendor in FINDERS
    }


def probe_counts(folder: str) -> list[dict]:
    return [json.loads(path.read_text()) for path in Path(folder).glob("*.json")]


def report(args, items, total, elapsed, cpu, by_table, stats, get_provider) -> None:
    """Print the figures; exit non-zero when the job did not settle."""
    settled = items.filter(status__in=["done", "needs_review"]).count()
    calls = calls_by_vendor(stats)
    per_prospect = sum(calls.values()) / total
    rate = total / elapsed
    print(f"prospects settled         {settled} / {total} (in review: "
          f"{items.filter(status='needs_review').count()})")  # fmt: skip
    print(f"wall time                 {elapsed:.1f} s")
    print(f"prospects/second          {rate:.2f}")
    print(
        "vendor calls              "
        + ", ".join(f"{v} {calls[v]}" for v in FINDERS)
        + f" ({per_prospect:.2f} per prospect)"
    )
    rate_limited = sum(
        n for v in FINDERS for o in stats["counts"].get(v, {}).values()
        for outcome, n in o.items() if outcome == "rate_limited"
    )  # fmt: skip
    print(f"vendors' own 429 answers  {rate_limited}")
    if args.latency_ms > 0:
        latency = args.latency_ms / 1000
        ceiling = args.concurrency / latency / per_prospect
        print(f"concurrency ceiling       {ceiling:.1f} prospects/s -> ratio {rate / ceiling:.2f}")
        # Each vendor takes `concurrency` calls at once (registry, or the operator's plan): the
        # one asked most often for its allowance may bound the waterfall below the threads.
        vendor_ceiling = min(
            min(args.concurrency, get_provider(v).concurrency) / latency * total / calls[v]
            for v in FINDERS
            if calls[v]
        )
        if vendor_ceiling < ceiling:
            print(f"vendors' concurrency      {vendor_ceiling:.1f} prospects/s -> ratio "
                  f"{rate / vendor_ceiling:.2f} (the bound: raise it with "
                  "--provider-concurrency)")  # fmt: skip
    else:
        print("concurrency ceiling       none at 0 ms latency")
    # Each vendor may be called `requests_per_second` times a second (registry): the vendor
    # asked most often per prospect caps the whole waterfall.
    rate_ceiling = min(
        get_provider(v).requests_per_second * total / calls[v] for v in FINDERS if calls[v]
    )
    print(f"registry rate ceiling     {rate_ceiling:.1f} prospects/s -> ratio "
          f"{rate / rate_ceiling:.2f}")  # fmt: skip
    where = "this process: worker" if args.pool == "threads" else "the worker's processes"
    print(f"CPU per prospect          {1000 * cpu / total:.1f} ms ({where} + DB client; the "
          "sandbox runs apart)")  # fmt: skip
    queries = sum(by_table.values())
    print(f"queries per prospect      {queries / total:.1f}")
    for name, n in by_table.most_common():
        print(f"    {n / total:5.2f}  {name}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"peak memory (RSS)         {peak_mb:.0f} MB (whole process)")
    if settled < total:
        sys.exit(f"only {settled} of {total} prospects settled before the timeout")


def print_time_shares(args, workspace, created: int, elapsed: float, sql_seconds: float) -> None:
    """How the workers' wall time went: waiting for vendors, and running SQL."""
    from django.db.models import Avg

    from enrichment.models import ProviderCall

    calls = ProviderCall.objects.for_workspace(workspace)
    measured = calls.aggregate(ms=Avg("latency_ms"))["ms"]
    if measured and args.latency_ms > 0:
        busy = calls.count() * measured / 1000
        share = busy / args.concurrency / elapsed
        print(f"vendor time per call      {measured:.0f} ms measured by the transport "
              f"(sandbox {args.latency_ms:.0f} ms); the workers spent {share:.0%} of the "
              "wall time waiting for vendors")  # fmt: skip
    sql_share = sql_seconds / args.concurrency / elapsed
    print(f"SQL time                  {1000 * sql_seconds / created:.1f} ms per prospect, "
          f"{sql_share:.0%} of the workers' wall time")  # fmt: skip
