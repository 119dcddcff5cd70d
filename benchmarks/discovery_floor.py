"""The ceiling of `benchmarks/discovery.py` on this machine: what the sandbox's own servers
allow a client that does nothing but ask.

Builds the same world as the discovery benchmark, serves its mail hosts from the same child
process, and asks them from a bare client: no database, no DNS (the hosts are read from the
plan), no scoring, one raw socket per mail host, MAIL FROM once and every RCPT pipelined in
chunks of a session's 50. It asks each person's first candidates, as many RCPTs in all as the
discovery benchmark sends, then prints the RCPTs per second it got and the addresses per
second that makes at the benchmark's RCPTs per address: no client, Sourcier's or another,
can be faster against these servers on this machine, since the servers and the client share
its cores.

    .venv/bin/python benchmarks/discovery_floor.py --domains 100
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# What benchmarks/discovery.py measured on the same world (3,307 RCPTs for 1,690 addresses).
RCPTS = 3307
RCPTS_PER_ADDRESS = 3307 / 1690
PER_SESSION = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=100)
    parser.add_argument("--staff", type=int, nargs=2, default=(8, 12), metavar=("LEAST", "MOST"))
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--rcpts", type=int, default=RCPTS)
    args = parser.parse_args()

    from enrichment.discovery.permutations import candidates
    from enrichment.sandbox.mail_process import MailSandboxProcess
    from enrichment.sandbox.mail_world import MailPlan
    from enrichment.sandbox.world import World

    world = World.build(args.seed, args.domains, staff=tuple(args.staff))
    plan = MailPlan.build(world, slow_dns_share=0.0)
    by_host: dict[str, list[str]] = defaultdict(list)
    rounds = [
        (person, [c.address(person.company.domain) for c in candidates(
            person.first_name, person.last_name)])
        for person in world.people
        if plan.mx(person.company.domain)
    ]
    asked = 0
    for rank in range(20):  # each person's first candidate, then their second, ...
        for person, addresses in rounds:
            if asked < args.rcpts and rank < len(addresses):
                host = plan.address_of(plan.mx(person.company.domain)[0][1])
                if host:
                    by_host[host].append(addresses[rank])
                    asked += 1
    with MailSandboxProcess(plan) as servers:
        started, cpu = time.perf_counter(), time.process_time()
        replies = sum(ask_host(ip, servers.smtp_port, rcpts) for ip, rcpts in by_host.items())
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        server_cpu = servers.snapshot().cpu_seconds
    print(f"discovery floor: {replies} RCPTs to {len(by_host)} mail hosts, bare client")
    print(f"  elapsed           {elapsed:.3f} s (client CPU {cpu:.3f} s; the servers' process "
          f"{server_cpu:.3f} s since it started), load average "
          f"{' '.join(f'{load:.2f}' for load in os.getloadavg())}")
    print(f"  RCPTs/s           {replies / elapsed:.0f}")
    print(f"  addresses/s       {replies / elapsed / RCPTS_PER_ADDRESS:.0f} "
          f"(at the discovery benchmark's {RCPTS_PER_ADDRESS:.2f} RCPTs per address)")


def ask_host(ip: str, port: int, rcpts: list[str]) -> int:
    """Every RCPT of `rcpts` asked on sessions of PER_SESSION; the replies read. The world's
    dead host (nothing listens there) answers none."""
    answered = 0
    for start in range(0, len(rcpts), PER_SESSION):
        try:
            sock = socket.create_connection((ip, port), timeout=10)
        except ConnectionRefusedError:
            return answered
        with sock:
            reader = sock.makefile("rb")
            read_reply(reader)  # banner
            sock.sendall(b"EHLO floor.sourcier-demo.fr\r\n")
            read_reply(reader)
            chunk = rcpts[start : start + PER_SESSION]
            lines = ["MAIL FROM:<verification@sourcier-demo.fr>"]
            lines += [f"RCPT TO:<{address}>" for address in chunk]
            sock.sendall("".join(f"{line}\r\n" for line in lines).encode())
            for _line in lines:
                read_reply(reader)
            answered += len(chunk)
            sock.sendall(b"QUIT\r\n")
            read_reply(reader)
    return answered


def read_reply(reader) -> str:
    while True:
        line = reader.readline(1024)
        if not line or line[3:4] != b"-":
            return line.decode("ascii", "replace")


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    main()
