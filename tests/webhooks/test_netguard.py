"""The address guard: every form of a forbidden address is refused before any connection."""

import http.server
import ipaddress
import socket
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrichment.webhooks import netguard

# Names a hostile DNS zone could point at internal addresses.
ZONE = {
    "intranet.example.com": ["10.1.2.3"],
    "metadata.example.com": ["169.254.169.254"],
    "cgnat.example.com": ["100.64.0.7"],
    "mapped.example.com": ["::ffff:127.0.0.1"],
    "nat64.example.com": ["64:ff9b::a00:1"],
    "ula.example.com": ["fd00::1"],
    "mixed.example.com": ["93.184.215.14", "192.168.1.1"],
    "public.example.com": ["93.184.215.14"],
    "xn--exmple-cua.example.com": ["93.184.215.14"],
    "xn--strae-oqa.example.com": ["93.184.215.14"],  # straße, by IDNA 2008 (not strasse)
    "public6.example.com": ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
}


def zone_then_system(host: str, port: int) -> list[str]:
    if host.rstrip(".") in ZONE:
        return ZONE[host.rstrip(".")]
    return netguard.resolve_with_system(host, port)


FORBIDDEN = [
    "http://127.0.0.1/",
    "http://127.0.0.2:80/",
    "https://127.255.255.254/",
    "http://localhost/",
    "http://localhost./",
    "http://LOCALHOST/hook",
    "http://0.0.0.0/",
    "http://0/",
    "http://2130706433/",  # decimal 127.0.0.1
    "http://017700000001/",  # octal
    "http://0x7f000001/",  # hex
    "http://0x7f.0x0.0x0.0x1/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://127.0.1/",
    "http://[::1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::127.0.0.1]/",
    "http://[0:0:0:0:0:ffff:169.254.169.254]/",
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://[64:ff9b:1::a00:1]/",
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
    "http://[fe80::1]/",
    "http://[fe80::1%25eth0]/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[ff02::1]/",
    "http://[2001:db8::1]/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://192.168.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.0.1/",
    "http://100.64.0.1/",
    "http://100.127.255.254/",
    "http://192.0.0.8/",
    "http://192.0.2.10/",
    "http://198.51.100.7/",
    "http://203.0.113.9/",
    "http://198.18.0.1/",
    "http://224.0.0.1/",
    "http://239.255.255.250/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://intranet.example.com/",
    "http://metadata.example.com/",
    "http://cgnat.example.com/",
    "http://mapped.example.com/",
    "http://nat64.example.com/",
    "http://ula.example.com/",
    "http://mixed.example.com/",  # one private answer among public ones
    "http://public.example.com:8080/",  # not 80/443
    "http://public.example.com:22/",
    "https://public.example.com:6379/",
    "ftp://public.example.com/",
    "file:///etc/passwd",
    "gopher://public.example.com/",
    "http://user:pass@public.example.com/",
    "http:///nohost",
    "http://public.example.com:99999/",
    "http://exa mple.com/",
]


def test_the_table_holds_at_least_forty_addresses():
    assert len(FORBIDDEN) >= 40


@pytest.mark.parametrize("url", FORBIDDEN)
def test_forbidden_url_is_refused(url):
    with pytest.raises(netguard.Refused):
        netguard.check_url(url, resolve=zone_then_system)


@pytest.mark.parametrize(
    ("url", "address", "port"),
    [
        ("https://public.example.com/hooks?x=1", "93.184.215.14", 443),
        ("http://public.example.com/", "93.184.215.14", 80),
        ("https://public6.example.com/", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", 443),
        ("https://93.184.215.14/", "93.184.215.14", 443),
        ("https://exämple.example.com/", "93.184.215.14", 443),
        ("https://straße.example.com/", "93.184.215.14", 443),
    ],
)
def test_public_addresses_pass_and_name_the_address_to_connect_to(url, address, port):
    target = netguard.check_url(url, resolve=zone_then_system)
    assert (target.address, target.port) == (address, port)


def test_allowed_hosts_are_the_only_way_past_the_guard():
    target = netguard.check_url(
        "http://127.0.0.1:8025/hook", resolve=zone_then_system, allowed_hosts=["127.0.0.1:8025"]
    )
    assert target.address == "127.0.0.1"
    with pytest.raises(netguard.Refused):
        # Another port of the same host is still refused.
        netguard.check_url(
            "http://127.0.0.1:8026/", resolve=zone_then_system, allowed_hosts=["127.0.0.1:8025"]
        )
    with pytest.raises(netguard.Refused):
        netguard.check_url(
            "gopher://127.0.0.1:8025/", resolve=zone_then_system, allowed_hosts=["127.0.0.1:8025"]
        )


def test_a_name_that_resolves_to_nothing_is_refused():
    with pytest.raises(netguard.Refused) as refused:
        netguard.check_url("https://nothing.example.com/", resolve=lambda host, port: [])
    assert refused.value.code == "unresolvable"


private_v4 = st.sampled_from(
    [
        "10.0.0.0/8",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "0.0.0.0/8",
    ]
).flatmap(
    lambda net: st.integers(
        int(ipaddress.ip_network(net).network_address),
        int(ipaddress.ip_network(net).broadcast_address),
    ).map(ipaddress.IPv4Address)
)


@given(address=private_v4, form=st.sampled_from(["plain", "mapped", "nat64", "6to4", "dns"]))
def test_every_forbidden_ipv4_address_is_refused_in_every_form(address, form):
    packed = int(address)
    hosts = {
        "plain": str(address),
        "mapped": f"[::ffff:{address}]",
        "nat64": f"[{ipaddress.IPv6Address((0x64FF9B << 96) | packed)}]",
        "6to4": f"[{ipaddress.IPv6Address((0x2002 << 112) | (packed << 80))}]",
        "dns": "rebind.example.com",
    }
    with pytest.raises(netguard.Refused):
        netguard.check_url(f"https://{hosts[form]}/", resolve=lambda host, port: [str(address)])


class Echo(http.server.BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):
        self.seen.append(self.headers["Host"])
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_pinned_pool_connects_to_the_checked_address_and_sends_the_name():
    server = http.server.HTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        # The name resolves elsewhere now: the connection still goes to the checked address.
        target = netguard.Target("http", "receiver.example.com", port, "127.0.0.1", "/hook")
        pool = netguard.pinned_pool(target, timeout=5)
        answer = pool.urlopen("POST", "/hook", body=b"{}", redirect=False)
        assert answer.status == 204
        assert Echo.seen == [f"receiver.example.com:{port}"]
    finally:
        server.shutdown()
        server.server_close()


def test_the_pinned_pool_never_asks_the_resolver(monkeypatch):
    asked = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: asked.append(a) or [])
    target = netguard.Target("https", "receiver.example.com", 443, "192.0.2.1", "/")
    pool = netguard.pinned_pool(target, timeout=0.01)
    with pytest.raises(Exception):  # noqa: B017 (nothing listens there; the point is `asked`)
        pool.urlopen("POST", "/", body=b"{}", redirect=False)
    assert all(call[0] == "192.0.2.1" for call in asked)
