"""How many requests per second the sandbox serves at 0 ms latency, loopback only.

The server runs in a child process so the client threads do not share its interpreter lock;
each client thread keeps one HTTP/1.1 connection alive. The run stops after --requests in total
or --seconds, whichever comes first.

    .venv/bin/python benchmarks/sandbox_throughput.py --threads 8 --requests 20000
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# One cheap, documented request per vendor; the verifier address is not a "slow SMTP" one.
ENDPOINTS = {
    "hunter": ("GET", "/hunter/v2/email-verifier?email=probe@nowhere.example&api_key={key}",
               {}, None),
    "dropcontact": ("GET", "/dropcontact/v1/enrich/all/unknownrequest",
                    {"X-Access-Token": "{key}"}, None),
    "leadmagic": ("POST", "/leadmagic/v1/people/email-finder", {"X-API-Key": "{key}"},
                  {"first_name": "Éloïse", "last_name": "Lefèvre", "domain": "nowhere.example"}),
    "health": ("GET", "/_sandbox/health", {}, None),
}


def _serve(port_queue: multiprocessing.Queue, stop: multiprocessing.Event, seed: int,
           size: int) -> None:
    from enrichment.sandbox.server import start_sandbox

    server = start_sandbox(seed=seed, size=size)
    port_queue.put(server.port)
    stop.wait(600)
    server.stop()


def _control(port: int, method: str, path: str, payload: dict | None = None) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = json.dumps(payload).encode() if payload is not None else None
    connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
    answer = json.loads(connection.getresponse().read())
    connection.close()
    return answer


def _client(port: int, endpoint: tuple, key: str, budget: dict, deadline: float,
            latencies: list[float], statuses: dict[int, int], lock: threading.Lock) -> None:
    method, path, headers, payload = endpoint
    path = path.format(key=key)
    headers = {name: value.format(key=key) for name, value in headers.items()}
    body = json.dumps(payload).encode() if payload is not None else None
    if body:
        headers["Content-Type"] = "application/json"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    mine: list[float] = []
    seen: dict[int, int] = {}
    while time.monotonic() < deadline:
        with lock:
            if budget["left"] <= 0:
                break
            budget["left"] -= 1
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        mine.append(time.perf_counter() - started)
        seen[response.status] = seen.get(response.status, 0) + 1
    connection.close()
    with lock:
        latencies.extend(mine)
        for status, count in seen.items():
            statuses[status] = statuses.get(status, 0) + count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--requests", type=int, default=20_000, help="total requests (cap)")
    parser.add_argument("--seconds", type=float, default=15.0, help="time limit (cap)")
    parser.add_argument("--vendor", choices=sorted(ENDPOINTS), default="hunter")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--size", type=int, default=60)
    args = parser.parse_args()

    port_queue: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=_serve, args=(port_queue, stop, args.seed, args.size),
                                     daemon=True)
    server.start()
    try:
        port = port_queue.get(timeout=60)
        # No injected latency, no rate limit, credits for the whole run.
        _control(port, "POST", "/_sandbox/faults",
                 {"vendor": "*", "latency_ms": 0, "rate_limit": 0, "credits": 10**9})
        _control(port, "POST", "/_sandbox/reset-stats")
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        budget = {"left": args.requests}
        started = time.monotonic()
        deadline = started + args.seconds
        threads = [
            threading.Thread(target=_client, args=(port, ENDPOINTS[args.vendor], "sandbox-key",
                                                   budget, deadline, latencies, statuses, lock))
            for _ in range(args.threads)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.seconds + 30)
        elapsed = time.monotonic() - started
        stats = _control(port, "GET", "/_sandbox/stats")
        calls = _control(port, "GET", "/_sandbox/calls?limit=2000")["calls"]
    finally:
        stop.set()
        server.join(10)
        if server.is_alive():
            server.terminate()

    done = len(latencies)
    if not done:
        print("no request completed")
        return 1
    ordered = sorted(latencies)
    handler_ms = [1000 * (c["finished_at"] - c["started_at"]) for c in calls]
    print(f"vendor={args.vendor} threads={args.threads} requests={done} seconds={elapsed:.2f}")
    print(f"throughput: {done / elapsed:,.0f} requests/second")
    print(f"client latency ms: p50={1000 * statistics.median(ordered):.2f} "
          f"p99={1000 * ordered[int(0.99 * (done - 1))]:.2f} max={1000 * ordered[-1]:.2f}")
    if handler_ms:
        print(f"sandbox time in handler ms (last {len(handler_ms)}): "
              f"mean={statistics.mean(handler_ms):.3f}")
    print(f"statuses: {dict(sorted(statuses.items()))}  recorded by sandbox: {stats['total']}")
    # The sandbox runs in a child process: its peak is the children's, the client's our own.
    server_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    client_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS): sandbox {server_mb:.0f} MB, client {client_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
