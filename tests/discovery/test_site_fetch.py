"""Fetching a company's pages: a slow or drip-feeding server is given up at the page's and the
site's deadlines (never held until the task's time limit), and an unwanted answer is read
before the connection closes, so the server never sees a reset."""

import html
import io
import queue
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.urls import reverse

from enrichment.discovery import jobs
from enrichment.discovery.company import (
    WARNING_PAGE_TOO_SLOW,
    WARNING_SITE_TIME_SPENT,
    discover_company,
)
from enrichment.discovery.site_fetch import PageTooSlow, fetch_page
from enrichment.discovery.warning_texts import warning_detail
from enrichment.models import DiscoveryJob
from tests.factories import WorkspaceFactory

# A drip lasts this long at most: without a deadline, each fetch would wait all of it.
DRIP_BYTES, DRIP_EVERY = 12, 0.2


class Dripping(BaseHTTPRequestHandler):
    """Headers then a byte of the body now and then (`/sites/.../headers`: the headers too)."""

    protocol_version = "HTTP/1.1"
    server: "DripServer"

    def log_message(self, format, *args):
        return

    def do_GET(self):
        self.server.asked.append(self.path)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n"
        slow_head = self.path.endswith("/headers")
        try:
            self.wfile.write(head[:9] if slow_head else head)
            self.wfile.flush()
            for byte in (head[9:] if slow_head else b"<" * DRIP_BYTES)[:DRIP_BYTES]:
                if self.server.stopping.wait(DRIP_EVERY):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        except OSError:
            return


class DripServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Dripping)
        self.stopping = threading.Event()
        self.asked = []


@pytest.fixture
def dripping(settings):
    server = DripServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    settings.SOURCIER_DISCOVERY_SITE_URL = f"http://127.0.0.1:{server.server_port}/sites/{{domain}}"
    yield server
    server.stopping.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.mark.parametrize("path", ["/", "/headers"])
def test_a_drip_fed_page_is_given_up_at_its_deadline(dripping, settings, path):
    settings.SOURCIER_DISCOVERY_PAGE_SECONDS = 0.6
    started = time.monotonic()
    with pytest.raises(PageTooSlow):
        fetch_page(f"http://127.0.0.1:{dripping.server_port}/sites/alpha.fr{path}")
    assert time.monotonic() - started < 1.2
    # An explicit deadline (the site's, when less is left of it) comes first.
    started = time.monotonic()
    with pytest.raises(PageTooSlow):
        fetch_page(
            f"http://127.0.0.1:{dripping.server_port}/sites/alpha.fr{path}",
            time.monotonic() + 0.3,
        )
    assert time.monotonic() - started < 0.9


def test_the_site_s_pages_share_one_deadline_and_the_run_says_so_in_french(
    dripping, settings, db
):
    settings.SOURCIER_DISCOVERY_PAGE_SECONDS = 0.5
    settings.SOURCIER_DISCOVERY_SITE_SECONDS = 1.2
    workspace = WorkspaceFactory()
    started = time.monotonic()
    run = discover_company(workspace, "alpha.fr", smtp=False)
    assert time.monotonic() - started < 2.0
    assert (run.pages, run.people, run.added) == (0, 0, 0)
    assert run.warnings == {WARNING_PAGE_TOO_SLOW, WARNING_SITE_TIME_SPENT}
    assert 2 <= len(dripping.asked) <= 4  # the pages left when the time was spent: not asked

    out = io.StringIO()
    call_command(
        "discover_contacts", "--workspace", workspace.slug, "--domain", "alpha.fr", "--no-smtp",
        stdout=out, stderr=io.StringIO(),
    )
    said = out.getvalue()
    assert "n’est pas arrivée dans le délai SOURCIER_DISCOVERY_PAGE_SECONDS" in said
    assert "a dépassé SOURCIER_DISCOVERY_SITE_SECONDS : ses pages restantes" in said


def test_a_jobs_warnings_are_kept_and_shown_in_the_admin_and_the_api(
    dripping, settings, workspace, member_client
):
    settings.SOURCIER_DISCOVERY_PAGE_SECONDS = 0.5
    settings.SOURCIER_DISCOVERY_SITE_SECONDS = 1.2
    settings.SOURCIER_SMTP_HELO = "sonde.sourcier-demo.fr"
    settings.SOURCIER_SMTP_MAIL_FROM = "verification@sourcier-demo.fr"
    job = DiscoveryJob.objects.create(workspace=workspace, domain="alpha.fr")
    assert jobs.run_job(job.pk) == "completed"
    job.refresh_from_db()
    # Kept with the job: a run that read nothing says why, after its worker is gone.
    assert job.warnings == sorted([WARNING_PAGE_TOO_SLOW, WARNING_SITE_TIME_SPENT])

    page = member_client.get(reverse("admin:enrichment_discoveryjob_change", args=[job.pk]))
    said = html.unescape(page.content.decode())
    assert "Avertissements" in said or "avertissements" in said
    assert "n’est pas arrivée dans le délai SOURCIER_DISCOVERY_PAGE_SECONDS" in said

    body = member_client.get(f"/api/v1/discovery/jobs/{job.pk}").json()
    assert [w["code"] for w in body["warnings"]] == job.warnings
    assert all(set(w) == {"code", "message"} and w["message"] for w in body["warnings"])
    # A people search's own sentence is kept as said, under one code.
    assert warning_detail("People search: no key.") == {
        "code": "people_search", "message": "People search: no key."
    }


def serve_once(body_size: int, answers: queue.Queue) -> int:
    """A server that answers one request with a 404 and a body, then tells how the client
    hung up: 'closed' (all read, FIN) or 'reset' (closed with the body unread, RST)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve():
        connection, _address = listener.accept()
        with connection, listener:
            connection.settimeout(5)
            request = b""
            while b"\r\n\r\n" not in request:
                request += connection.recv(4096)
            head = f"HTTP/1.1 404 Not Found\r\nContent-Length: {body_size}\r\n\r\n"
            connection.sendall(head.encode() + b"x" * body_size)
            try:
                answers.put("closed" if connection.recv(1) == b"" else "more")
            except ConnectionResetError:
                answers.put("reset")

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def test_a_page_that_is_not_there_is_read_before_hanging_up(settings):
    answers = queue.Queue()
    port = serve_once(40_000, answers)
    settings.SOURCIER_DISCOVERY_SITE_URL = f"http://127.0.0.1:{port}/sites/{{domain}}"
    assert fetch_page(f"http://127.0.0.1:{port}/sites/alpha.fr/equipe") is None
    assert answers.get(timeout=5) == "closed"
