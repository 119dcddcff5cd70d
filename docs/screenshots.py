"""Screenshots of the main screens for the README (`make screenshots`).

Builds a throw-away demo in a temporary directory (SQLite, the filesystem broker): the sandbox,
a Celery worker and beat, and the web server, each on a free port; then `seed_demo` (its
prospects enriched by the worker against the sandbox), an import, an email waterfall job, a
campaign with its sequence and one member who objected since, and a discovery run on one of
the sandbox companies. Then Debian's chromium (through Playwright, as the browser tests) logs in
as `demo` and saves each screen at 1280x800 into docs/. Every process it started is stopped at
the end, whatever happens.

    .venv/bin/python docs/screenshots.py [--out docs] [--timeout 180]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PASSWORD = "demo-captures-2025"  # noqa: S105  (a throw-away demo)
VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]

# The scene, built after the demo is enriched: ids of what the screens show, as JSON.
SCENE = r"""
import json
from django.utils import timezone
from campaigns import services as campaigns
from campaigns.models import SequenceStep
from enrichment.discovery_models import DiscoveredContact
from enrichment.models import EnrichmentJob
from prospects.models import ImportBatch, Prospect, Workspace
from prospects.services import suppress_person

ws = Workspace.objects.get(slug="demo")
people = Prospect.objects.for_workspace(ws)
verified = list(people.filter(status="verified").select_related("company").order_by("pk"))
campaign = campaigns.get_or_create_campaign(ws.pk, "Salon VivaTech 2025")
if not SequenceStep.objects.for_workspace(ws).filter(campaign=campaign).exists():
    for position, (kind, delay, subject) in enumerate([
        ("email", 0, "Rencontrons-nous à VivaTech"),
        ("follow_up", 3, "Re : Rencontrons-nous à VivaTech"),
        ("linkedin", 5, ""),
        ("final_email", 7, "Dernier message avant le salon"),
    ], start=1):
        SequenceStep.objects.create(workspace=ws, campaign=campaign, position=position,
                                    kind=kind, delay_days=delay, subject=subject)
campaigns.add_prospects_to_campaign(campaign, verified[:12])
if len(verified) > 3 and verified[2].email:
    suppress_person(ws, email=verified[2].email)  # objected since joining
from prospects.normalize import fold
# Someone whose name has an accent, found by typing it without: "menard" finds Ménard.
named = next((p for p in verified if not p.last_name.isascii() and p.company_id),
             next((p for p in verified if p.last_name and p.company_id), verified[0]))
print(json.dumps({
    "prospect": named.pk,
    "search": fold(named.last_name),
    "campaign": campaign.pk,
    "import": ImportBatch.objects.for_workspace(ws).order_by("-pk").values_list("pk", flat=True)[0],
    "job": EnrichmentJob.objects.for_workspace(ws).order_by("-pk").values_list("pk", flat=True)[0],
    "contacts": DiscoveredContact.objects.for_workspace(ws).count(),
}))
"""

SCREENS = [
    ("accueil.png", "/admin/", None),
    ("prospects.png", "/admin/prospects/prospect/?q={search}", None),
    ("prospect.png", "/admin/prospects/prospect/{prospect}/change/", None),
    ("import.png", "/admin/prospects/importbatch/{import}/change/", None),
    ("tache.png", "/admin/enrichment/enrichmentjob/{job}/change/", None),
    ("campagne.png", "/admin/campaigns/campaign/{campaign}/change/", "#campaign-send"),
    ("contacts-decouverts.png", "/admin/enrichment/discoveredcontact/", None),
    ("couts.png", "/admin/enrichment/costdashboard/", None),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=2)  # noqa: S310  (our own http URLs)
            return
        time.sleep(0.5)
    sys.exit(f"{url} did not answer within {timeout:.0f} s")


class Stack:
    """The processes of `make run`, each on its own port, stopped by `close()`."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str, *command: str) -> None:
        log = (self.log_dir / f"{name}.log").open("w")
        self.processes.append(
            subprocess.Popen(  # noqa: S603
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )  # fmt: skip

    def manage(self, *args: str, capture: bool = False) -> str:
        done = subprocess.run(  # noqa: S603
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, check=True,
            capture_output=capture, text=True,
        )  # fmt: skip
        return done.stdout if capture else ""

    def close(self) -> None:
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def environment(var_dir: Path, ports: dict[str, int]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        SOURCIER_VAR_DIR=str(var_dir),
        SOURCIER_DEMO_PASSWORD=PASSWORD,
        SOURCIER_SANDBOX_URL=f"http://127.0.0.1:{ports['sandbox']}",
        SOURCIER_DROPCONTACT_POLL_INTERVAL="2",
        SOURCIER_DROPCONTACT_BATCH_WINDOW="1",
        SOURCIER_DNS_NAMESERVERS="127.0.0.1",
        SOURCIER_DNS_PORT=str(ports["dns"]),
        SOURCIER_SMTP_PORT=str(ports["smtp"]),
        SOURCIER_SMTP_ALLOW_PRIVATE_HOSTS="true",
        SOURCIER_SMTP_HELO="sonde.sourcier-demo.fr",
        SOURCIER_SMTP_MAIL_FROM="verification@sourcier-demo.fr",
        SOURCIER_LOGIN_RATE="1000/m",
        TZ="UTC",
    )
    return env


def settle(stack: Stack, timeout: float) -> None:
    """Wait until no demo prospect is still new or being enriched."""
    check = (
        "from prospects.models import Prospect, Workspace;"
        "ws = Workspace.objects.get(slug='demo');"
        "print(Prospect.objects.for_workspace(ws).filter(status__in=['new','enriching']).count())"
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.manage("shell", "-c", check, capture=True).split()[-1:] == ["0"]:
            return
        time.sleep(3)
    print("warning: some demo prospects were still being enriched", file=sys.stderr)


def import_file(stack: Stack, var_dir: Path) -> None:
    """Fifteen more people of the sandbox world, as a sales team's CSV."""
    listing = stack.manage(
        "shell", "-c",
        "import json; from django.conf import settings;"
        "from enrichment.sandbox.world import World;"
        "w = World.build(settings.SOURCIER_SANDBOX_SEED, settings.SOURCIER_SANDBOX_SIZE);"
        "print(json.dumps([[p.first_name, p.last_name, p.company.name, p.company.website]"
        " for p in w.people[40:55]]))",
        capture=True,
    )  # fmt: skip
    path = var_dir / "salon-lyon.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["Prénom", "Nom", "Société", "Site web"])
        writer.writerows(json.loads(listing.strip().splitlines()[-1]))
    stack.manage("import_prospects", str(path), "--workspace", "demo")


def build_scene(stack: Stack, var_dir: Path, timeout: float) -> dict:
    stack.manage("seed_demo")
    settle(stack, timeout)
    import_file(stack, var_dir)
    settle(stack, timeout)
    stack.manage("enrich", "--workspace", "demo", "--fields", "email", "--wait",
                 "--timeout", str(int(timeout)))  # fmt: skip
    domain = stack.manage(
        "shell", "-c",
        "from django.conf import settings; from enrichment.sandbox.world import World;"
        "w = World.build(settings.SOURCIER_SANDBOX_SEED, settings.SOURCIER_SANDBOX_SIZE);"
        "print(w.people[0].company.domain)",
        capture=True,
    ).strip().splitlines()[-1]  # fmt: skip
    with contextlib.suppress(subprocess.CalledProcessError):
        stack.manage("discover_contacts", "--workspace", "demo", "--domain", domain, "--wait")
    return json.loads(stack.manage("shell", "-c", SCENE, capture=True).strip().splitlines()[-1])


def capture(base_url: str, scene: dict, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        sys.exit("Debian's chromium is needed (apt-get install chromium)")
    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=base_url, locale="fr-FR", viewport=VIEWPORT)
        page = context.new_page()
        page.goto("/admin/login/")
        page.fill("#id_username", "demo")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/")
        for name, path, anchor in SCREENS:
            page.goto(path.format(**scene))
            page.wait_for_load_state("networkidle")
            if anchor:
                page.locator(anchor).scroll_into_view_if_needed()
            target = out / name
            page.screenshot(path=str(target))
            saved.append(target)
        browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--timeout", type=float, default=180, help="seconds per waiting step")
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="sourcier-screens-"))
    ports = {name: free_port() for name in ("web", "sandbox", "dns", "smtp")}
    env = environment(var_dir, ports)
    stack = Stack(env, var_dir)
    try:
        stack.manage("migrate", "--no-input", "--verbosity", "0")
        # Before the web server starts: it serves the static files found at its start.
        stack.manage("collectstatic", "--no-input", "--verbosity", "0")
        stack.start("sandbox", PYTHON, "manage.py", "run_sandbox", "--port", str(ports["sandbox"]),
                    "--dns-port", str(ports["dns"]), "--smtp-port", str(ports["smtp"]))  # fmt: skip
        celery = str(Path(PYTHON).with_name("celery"))
        stack.start("worker", celery, "-A", "config", "--quiet", "worker", "--concurrency", "2")
        stack.start("beat", celery, "-A", "config", "--quiet", "beat",
                    "--schedule", str(var_dir / "beat-schedule"))  # fmt: skip
        stack.start("web", PYTHON, "manage.py", "runserver", "--noreload", "--insecure",
                    f"127.0.0.1:{ports['web']}")  # fmt: skip
        wait_for(f"http://127.0.0.1:{ports['sandbox']}/_sandbox/stats", 60)
        scene = build_scene(stack, var_dir, args.timeout)
        wait_for(f"http://127.0.0.1:{ports['web']}/admin/login/", 60)
        for path in capture(f"http://127.0.0.1:{ports['web']}", scene, args.out):
            print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    finally:
        stack.close()
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
