"""The sandbox server: loopback only, one port for every vendor, every call recorded."""

import http.client
import json
import socket
import threading

import pytest
import requests
from django.core.management import CommandError, call_command

from enrichment.sandbox.server import SandboxServer, is_loopback
from enrichment.sandbox.vendors import SLUGS

from .support import KEY

pytestmark = pytest.mark.sandbox


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])  # noqa: S104
def test_server_refuses_non_loopback_hosts(world, host):
    with pytest.raises(ValueError, match="loopback"):
        SandboxServer(world, host=host)


def test_loopback_hosts_are_recognised():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "localhost"))


def test_server_binds_loopback_and_stops_with_its_context(world):
    with SandboxServer(world, port=0) as server:
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert server._httpd.socket.getsockname()[0] == "127.0.0.1"
        assert requests.get(f"{server.url}/_sandbox/health", timeout=5).status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/_sandbox/health", timeout=2)


def test_command_refuses_a_public_host():
    with pytest.raises(CommandError, match="loopback"):
        call_command("run_sandbox", host="0.0.0.0")  # noqa: S104


def test_command_exports_truth_and_prospects_then_exits(tmp_path):
    truth, prospects = tmp_path / "truth.csv", tmp_path / "prospects.csv"
    call_command("run_sandbox", seed=3, size=4, export_truth=str(truth),
                 export_prospects=str(prospects))
    assert truth.read_text(encoding="utf-8").startswith("first_name,last_name,company_domain,")
    assert prospects.read_bytes().startswith("\ufeffPrénom;Nom;Société".encode())


def test_health_lists_every_vendor(sandbox):
    health = requests.get(f"{sandbox.url}/_sandbox/health", timeout=5).json()
    assert health["status"] == "ok"
    assert health["vendors"] == sorted(SLUGS)
    assert (health["seed"], health["size"], health["companies"]) == (42, 60, 60)


def test_unknown_vendor_and_unknown_path_are_404(sandbox):
    assert requests.get(f"{sandbox.url}/nobody/v1/x", timeout=5).status_code == 404
    answer = requests.get(f"{sandbox.url}/dropcontact/v9/nothing", timeout=5)
    assert answer.status_code == 404
    assert answer.json() == {"detail": "Not Found"}


def test_calls_are_recorded_with_vendor_endpoint_key_and_outcome(sandbox):
    requests.get(f"{sandbox.url}/hunter/v2/email-verifier",
                 params={"email": "probe@nowhere.example", "api_key": "wrong"}, timeout=5)
    requests.post(f"{sandbox.url}/dropcontact/v1/enrich/all", headers={"X-Access-Token": KEY},
                  json={"data": [{"first_name": "A", "last_name": "B"}] * 3}, timeout=5)
    first, second = sandbox.calls
    assert (first.vendor, first.endpoint, first.key) == ("hunter", "GET /v2/email-verifier",
                                                         "wrong")
    assert (first.status, first.outcome) == (401, "auth")
    assert (second.vendor, second.endpoint, second.status, second.records) == (
        "dropcontact", "POST /v1/enrich/all", 200, 3)
    assert second.started_at <= second.finished_at
    stats = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()
    assert stats["counts"]["hunter"]["GET /v2/email-verifier"] == {"auth": 1}
    assert stats["counts"]["dropcontact"]["POST /v1/enrich/all"] == {"ok": 1}
    assert stats["credits_used"] == {"dropcontact": {KEY: 3}}
    recorded = requests.get(f"{sandbox.url}/_sandbox/calls?vendor=dropcontact", timeout=5).json()
    assert [c["records"] for c in recorded["calls"]] == [3]


def test_high_water_mark_counts_concurrent_requests_per_key(sandbox):
    sandbox.set_faults("hunter", latency_ms=300)
    barrier = threading.Barrier(6)

    def verify(key: str) -> None:
        barrier.wait()
        requests.get(f"{sandbox.url}/hunter/v2/email-verifier",
                     params={"email": "probe@nowhere.example", "api_key": key}, timeout=5)

    threads = [threading.Thread(target=verify, args=(KEY,)) for _ in range(4)]
    threads += [threading.Thread(target=verify, args=("other",)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    high_water = sandbox.stats()["high_water"]["hunter"]
    assert high_water == {KEY: 4, "other": 2}
    assert "hunter" not in sandbox.stats()["in_flight"]


def test_reset_stats_forgets_calls_and_high_water(sandbox):
    requests.get(f"{sandbox.url}/hunter/v2/email-verifier",
                 params={"email": "probe@nowhere.example", "api_key": KEY}, timeout=5)
    assert sandbox.calls
    answer = requests.post(f"{sandbox.url}/_sandbox/reset-stats", timeout=5)
    assert answer.json() == {"reset": True}
    assert sandbox.calls == []
    assert sandbox.stats()["total"] == 0 and sandbox.stats()["high_water"] == {}


def test_keep_alive_connections_are_reused(sandbox):
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    sockets = set()
    for _ in range(5):
        connection.request("GET", "/_sandbox/health")
        assert connection.getresponse().read()
        sockets.add(id(connection.sock))
    connection.close()
    assert len(sockets) == 1


def test_the_port_is_free_again_after_stop(world):
    server = SandboxServer(world).start()
    port = server.port
    server.stop()
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


def test_a_chunked_request_body_is_read_whole(sandbox, world):
    person = next(p for p in world.people if p.expected_verdict == "verified")
    body = json.dumps({"first_name": person.first_name, "last_name": person.last_name,
                       "domain": person.company.domain}).encode()
    with requests.Session() as session:
        streamed = session.post(f"{sandbox.url}/leadmagic/v1/people/email-finder",
                                data=iter([body[:10], body[10:]]),
                                headers={"X-API-Key": KEY}, timeout=5)
        after = session.get(f"{sandbox.url}/_sandbox/health", timeout=5)
    assert streamed.json()["email"] == person.true_email
    assert after.status_code == 200
