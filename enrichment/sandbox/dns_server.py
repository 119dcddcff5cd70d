"""A loopback DNS server (UDP) that answers for the sandbox world's mail, built with dnspython.

Answers MX and A queries from a `MailPlan`: MX per domain behaviour, a null MX ("0 ."), no
record at all (NOERROR, empty), an A record for the mail hosts and the A-only domain, and
NXDOMAIN for every other name of the zone (`.example`); any other name is REFUSED, so a
real domain asked of the demo's resolver is a DNS error ("unknown"), never "invalid".
Domains in `plan.slow_dns` answer after `slow_seconds`.
Every query is counted, so tests and the benchmark can say how many were asked.
"""

from __future__ import annotations

import socketserver
import threading
import time
from collections import Counter

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

from .mail_world import TTL, MailPlan
from .server import is_loopback


def answer(plan: MailPlan, query: dns.message.Message) -> dns.message.Message:
    """The response to one query (pure)."""
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    if not query.question:
        response.set_rcode(dns.rcode.FORMERR)
        return response
    question = query.question[0]
    name = question.name.to_text().rstrip(".").lower()
    if not plan.in_zone(name):
        # Not ours to answer: a real domain must never look nonexistent in the demo.
        response.set_rcode(dns.rcode.REFUSED)
        return response
    if not plan.exists(name):
        response.set_rcode(dns.rcode.NXDOMAIN)
        return response
    if question.rdtype == dns.rdatatype.MX:
        records = plan.mx(name)
        # () is a null MX (RFC 7505): one record, preference 0, exchange ".".
        values = ["0 ."] if records == () else [f"{p} {host}." for p, host in records or ()]
        if values:
            rrset = dns.rrset.from_text_list(question.name, TTL, "IN", "MX", values)
            response.answer.append(rrset)
    elif question.rdtype == dns.rdatatype.A:
        address = plan.address_of(name)
        if address:
            response.answer.append(dns.rrset.from_text(question.name, TTL, "IN", "A", address))
    return response


class _Handler(socketserver.BaseRequestHandler):
    server: _UDPServer

    def handle(self) -> None:
        data, sock = self.request
        try:
            query = dns.message.from_wire(data)
        except Exception:
            return
        owner = self.server.owner
        name = query.question[0].name.to_text().rstrip(".").lower() if query.question else ""
        owner.count(name, query.question[0].rdtype if query.question else 0)
        if name in owner.plan.slow_dns and owner.slow_seconds:
            time.sleep(owner.slow_seconds)
        sock.sendto(answer(owner.plan, query).to_wire(), self.client_address)


class _UDPServer(socketserver.ThreadingUDPServer):
    daemon_threads = True
    owner: SandboxDNS


class SandboxDNS:
    """`start()` listens on host:port (port 0: an ephemeral one, see `.port`)."""

    def __init__(
        self, plan: MailPlan, *, host: str = "127.0.0.1", port: int = 0,
        slow_seconds: float = 0.0,
    ) -> None:
        if not is_loopback(host):
            raise ValueError(f"refusing to bind {host}: the sandbox is loopback-only")
        self.plan = plan
        self.slow_seconds = slow_seconds
        self.queries: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._server = _UDPServer((host, port), _Handler)
        self._server.owner = self
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        return self._server.server_address[:2]

    @property
    def port(self) -> int:
        return self.address[1]

    def count(self, name: str, rdtype: int) -> None:
        with self._lock:
            self.queries[(name, dns.rdatatype.to_text(rdtype))] += 1

    @property
    def total_queries(self) -> int:
        with self._lock:
            return sum(self.queries.values())

    def start(self) -> SandboxDNS:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="sandbox-dns")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
