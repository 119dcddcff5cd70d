import pytest

from enrichment.discovery.dns import MailResolver
from enrichment.discovery.scoring import (
    ROUTE_A,
    ROUTE_DNS_ERROR,
    ROUTE_MX,
    ROUTE_NO_MAIL,
    ROUTE_NULL_MX,
    ROUTE_NXDOMAIN,
)
from enrichment.discovery.services import find_best_address, verify_address
from enrichment.sandbox import mail_world as mw


@pytest.fixture
def resolve(dns_server):
    clock = {"now": 1000.0}
    resolver = MailResolver(("127.0.0.1",), dns_server.port, 2.0, clock=lambda: clock["now"])
    resolver.clock_state = clock
    return resolver


def test_mx_hosts_and_their_addresses_come_from_the_same_resolver(resolve, plan):
    route = resolve.route(plan.domain_of_kind(mw.BACKUP))
    assert route.status == ROUTE_MX
    assert [(h.name, h.preference, h.addresses) for h in route.hosts] == [
        ("dead.sandbox-mail.example", 10, ("127.0.0.13",)),
        ("backup.sandbox-mail.example", 20, ("127.0.0.14",)),
    ]
    assert resolve.queries == 3  # MX, then one A per host


def test_a_record_stands_in_for_a_missing_mx(resolve):
    route = resolve.route(mw.A_ONLY_DOMAIN)
    assert route.status == ROUTE_A
    assert route.hosts[0].name == mw.A_ONLY_DOMAIN
    assert route.deliverable


@pytest.mark.parametrize(
    ("kind", "status"), [(mw.NULL_MX, ROUTE_NULL_MX), (mw.NO_MAIL, ROUTE_NO_MAIL)]
)
def test_null_mx_and_no_record_are_undeliverable(resolve, plan, kind, status):
    route = resolve.route(plan.domain_of_kind(kind))
    assert route.status == status
    assert not route.deliverable


def test_unknown_domain_is_nxdomain(resolve):
    assert resolve.route("personne-ici.example").status == ROUTE_NXDOMAIN


def test_answers_are_cached_for_their_ttl(resolve, plan, dns_server):
    domain = plan.domain_of_kind(mw.NORMAL)
    before = dns_server.total_queries
    first = resolve.route(domain)
    asked = dns_server.total_queries - before
    assert asked == 2
    assert resolve.route(domain.upper()) == first
    assert dns_server.total_queries - before == asked
    resolve.clock_state["now"] += mw.TTL + 1
    resolve.route(domain)
    assert dns_server.total_queries - before == 2 * asked


def normal_domains(plan, count):
    return [d for d, kind in plan.kinds.items() if kind == mw.NORMAL][:count]


def test_a_mail_host_shared_by_many_domains_is_asked_once_per_ttl(resolve, plan, dns_server):
    first, second, third = normal_domains(plan, 3)
    before = dns_server.total_queries
    resolve.route(first)
    resolve.route(second)
    assert dns_server.total_queries - before == 3  # two MX, the shared host's A once
    assert resolve.route(second).hosts == resolve.route(first).hosts
    resolve.clock_state["now"] += mw.TTL + 1
    resolve.route(third)
    assert dns_server.total_queries - before == 5  # the host's answer has run out: asked again


def test_domains_asked_side_by_side_wait_for_their_shared_host(resolve, plan, dns_server):
    domains = normal_domains(plan, 12)
    before = dns_server.total_queries
    routes = resolve.route_many(domains)
    assert all(route.status == ROUTE_MX and route.deliverable for route in routes.values())
    assert dns_server.total_queries - before == len(domains) + 1


def test_a_dead_resolver_is_a_dns_error_not_an_invalid_domain(unused_udp_port):
    resolver = MailResolver(("127.0.0.1",), unused_udp_port, 0.3)
    assert resolver.route("exemple.fr").status == ROUTE_DNS_ERROR


@pytest.mark.parametrize(
    ("kind", "reason"),
    [(mw.NULL_MX, "null_mx"), (mw.NO_MAIL, "no_mail_server")],
)
def test_verify_says_why_a_domain_takes_no_mail(mail_sandbox, plan, kind, reason):
    verdict = verify_address(f"jean.dupont@{plan.domain_of_kind(kind)}")
    assert (verdict.status, verdict.reason, verdict.mx_ok) == ("invalid", reason, False)
    assert mail_sandbox.sessions == []


def test_verify_without_smtp_stops_at_dns(mail_sandbox, plan):
    verdict = verify_address(f"jean.dupont@{plan.domain_of_kind(mw.NORMAL)}", smtp=False)
    assert (verdict.status, verdict.reason, verdict.mx_ok) == ("unknown", "not_probed", True)
    nxdomain = verify_address("jean.dupont@personne-ici.example", smtp=False)
    assert (nxdomain.status, nxdomain.reason) == ("invalid", "domain_not_found")
    assert mail_sandbox.sessions == []


def test_the_sandbox_refuses_names_outside_its_zone(resolve):
    # A real domain asked of the demo's resolver is an error ("unknown"), never "invalid".
    assert resolve.route("exemple.fr").status == ROUTE_DNS_ERROR


def test_a_domain_whose_dns_fails_leaves_its_addresses_unknown(db, settings, unused_udp_port):
    # SERVFAIL or a timeout says nothing about the address: "unknown" with its reason, never
    # "risky" (the domain accepts every address) and never "invalid".
    settings.SOURCIER_DNS_NAMESERVERS = ["127.0.0.1"]
    settings.SOURCIER_DNS_PORT = unused_udp_port
    settings.SOURCIER_DNS_TIMEOUT = 0.3
    settings.SOURCIER_SMTP_HELO = "sonde.sourcier-demo.fr"
    settings.SOURCIER_SMTP_MAIL_FROM = "verification@sourcier-demo.fr"
    verdict = verify_address("jean.dupont@exemple.fr")
    assert (verdict.status, verdict.reason, verdict.mx_ok) == ("unknown", "dns_error", False)
    assert 50 <= verdict.score < 80
    best = find_best_address("Jean", "Dupont", "exemple.fr")
    assert (best.status, best.reason, best.smtp_code) == ("unknown", "dns_error", None)
    assert 50 <= best.score < 80


class SharedHostFailsDNS:
    """A DNS server on loopback: every domain's MX is one shared host, whose A question
    gets SERVFAIL (a hoster's name server down, say). Counts the A questions."""

    def __init__(self) -> None:
        import socket
        import threading

        self.a_questions = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        import dns.message
        import dns.rcode
        import dns.rdatatype
        import dns.rrset

        while self.running:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                continue
            query = dns.message.from_wire(data)
            answer = dns.message.make_response(query)
            question = query.question[0]
            if question.rdtype == dns.rdatatype.MX:
                answer.answer.append(dns.rrset.from_text(
                    question.name, 300, "IN", "MX", "10 mx.hoster-en-panne.example."
                ))  # fmt: skip
            else:
                self.a_questions += 1
                answer.set_rcode(dns.rcode.SERVFAIL)
            self.sock.sendto(answer.to_wire(), peer)

    def stop(self) -> None:
        self.running = False
        self.thread.join(2)
        self.sock.close()


def test_a_shared_host_that_cannot_be_read_is_not_asked_again_by_each_domain():
    server = SharedHostFailsDNS()
    try:
        resolver = MailResolver(("127.0.0.1",), server.port, 1.0)
        domains = [f"client{n}.example" for n in range(6)]
        routes = resolver.route_many(domains)
        # Each domain waits for the one answer (a failure kept briefly): not one each in turn.
        assert server.a_questions == 1
        assert all(not route.deliverable for route in routes.values())
    finally:
        server.stop()
