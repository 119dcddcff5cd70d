from __future__ import annotations

import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from enrichment.sandbox.dns_server import SandboxDNS
from enrichment.sandbox.faults import KINDS
from enrichment.sandbox.mail_world import MailPlan
from enrichment.sandbox.server import DEFAULT_KEY, DEFAULT_PORT, SandboxServer, is_loopback
from enrichment.sandbox.smtp_server import SandboxSMTP
from enrichment.sandbox.vendors import SLUGS
from enrichment.sandbox.world import World


def _pair(value: str, what: str) -> tuple[str, str]:
    vendor, sep, rest = value.partition(":")
    if not sep or not rest:
        raise CommandError(f"--{what} expects VENDOR:VALUE, got {value!r}")
    return vendor, rest


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Serve every provider's documented API from the offline sandbox world on loopback."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="loopback address only")
        parser.add_argument("--port", type=int, default=DEFAULT_PORT)
        # Defaults come from the settings the demo builds its prospects from: same world.
        parser.add_argument("--seed", type=int,
                            default=getattr(settings, "SOURCIER_SANDBOX_SEED", 42))
        parser.add_argument("--size", type=int,
                            default=getattr(settings, "SOURCIER_SANDBOX_SIZE", 60),
                            help="number of companies")
        parser.add_argument("--latency-ms", type=float, default=0.0,
                            help="added to every vendor answer")
        parser.add_argument(
            "--fault", action="append", default=[], metavar="VENDOR:KIND:RATE",
            help=f"inject a fault ('*' for every vendor); kinds: {', '.join(KINDS)}",
        )
        parser.add_argument("--outage", action="append", default=[],
                            metavar="VENDOR:START:END",
                            help="vendor down between START and END seconds from now")
        parser.add_argument("--rate-limit", action="append", default=[],
                            metavar="VENDOR:PER_SECOND",
                            help="requests per second per key before a 429 (0 = none)")
        default_key = getattr(settings, "SOURCIER_SANDBOX_KEY", DEFAULT_KEY)
        parser.add_argument("--keys", default=default_key,
                            help="comma-separated API keys valid for every vendor")
        parser.add_argument("--ready-after", type=float, default=2.0,
                            help="seconds a Dropcontact batch or a Firecrawl job stays pending")
        parser.add_argument("--dns-port", type=int, default=0,
                            help="also serve the world's DNS (UDP) on this port (0 = no)")
        parser.add_argument("--smtp-port", type=int, default=0,
                            help="also serve the world's mail hosts (127.0.0.10-16) on this port")
        parser.add_argument("--greylist-seconds", type=float, default=60.0,
                            help="how long the greylisting host defers a new recipient")
        parser.add_argument("--export-truth", metavar="FILE",
                            help="write the ground-truth CSV (with what Prospeo, LeadMagic and "
                                 "FindyMail answer for each prospect) and exit")
        parser.add_argument("--export-prospects", metavar="FILE",
                            help="write the prospects import CSV (French headers) and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if not is_loopback(options["host"]):
            raise CommandError(f"refusing to bind {options['host']}: the sandbox is loopback-only")
        if options["size"] < 1:
            raise CommandError("--size must be at least 1")
        world = World.build(options["seed"], options["size"])
        if options["export_truth"] or options["export_prospects"]:
            self._export(world, options)
            return
        keys = tuple(k.strip() for k in options["keys"].split(",") if k.strip())
        if not keys:
            raise CommandError("--keys needs at least one key")
        sandbox = SandboxServer(
            world,
            host=options["host"],
            port=options["port"],
            keys=keys,
            ready_after=options["ready_after"],
            latency_ms=options["latency_ms"],
        )
        try:
            self._configure(sandbox, options)
        except (KeyError, ValueError) as exc:
            raise CommandError(str(exc).strip("'\"")) from exc
        try:
            sandbox.start()
        except OSError as exc:
            where = f"{options['host']}:{options['port']}"
            raise CommandError(f"cannot listen on {where}: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(
            f"Sandbox: {len(world.companies)} companies, {len(world.people)} people "
            f"(seed {world.seed}) on {sandbox.url}"
        ))
        for slug in SLUGS:
            self.stdout.write(f"  {slug:<12} {sandbox.base_url(slug)}")
        self.stdout.write(f"  control      {sandbox.url}/_sandbox/stats   keys: {', '.join(keys)}")
        mail = self._start_mail(world, options)
        # SIGTERM (honcho, docker) stops as cleanly as Ctrl-C.
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            sandbox.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Sandbox stopped.")
        finally:
            sandbox.stop()
            for server in mail:
                server.stop()

    def _start_mail(self, world: World, options: dict[str, Any]) -> list[Any]:
        """The world's DNS and mail hosts, when their ports are given."""
        plan = MailPlan.build(world)
        servers: list[Any] = []
        try:
            if options["dns_port"]:
                servers.append(SandboxDNS(plan, host=options["host"], port=options["dns_port"],
                                          slow_seconds=0.5).start())
                self.stdout.write(f"  dns          udp://{options['host']}:{options['dns_port']}")
            if options["smtp_port"]:
                servers.append(SandboxSMTP(plan, port=options["smtp_port"],
                                           greylist_seconds=options["greylist_seconds"],
                                           slow_seconds=0.2).start())
                self.stdout.write(f"  smtp         127.0.0.10-16:{options['smtp_port']}")
        except OSError as exc:
            for server in servers:
                server.stop()
            raise CommandError(f"cannot serve the sandbox's mail: {exc}") from exc
        return servers

    def _export(self, world: World, options: dict[str, Any]) -> None:
        if options["export_truth"]:
            count = world.write_truth_csv(options["export_truth"])
            self.stdout.write(f"Wrote {count} truth rows to {options['export_truth']}")
        if options["export_prospects"]:
            count = world.write_prospects_csv(options["export_prospects"])
            self.stdout.write(f"Wrote {count} prospects to {options['export_prospects']}")

    def _configure(self, sandbox: SandboxServer, options: dict[str, Any]) -> None:
        for value in options["fault"]:
            vendor, rest = _pair(value, "fault")
            kind, sep, rate = rest.rpartition(":")
            if not sep:
                raise CommandError(f"--fault expects VENDOR:KIND:RATE, got {value!r}")
            targets = SLUGS if vendor in ("*", "all") else (vendor,)
            for target in targets:
                rates = dict(sandbox.faults.spec(target).rates) if target in SLUGS else {}
                rates[kind] = float(rate)
                sandbox.set_faults(target, rates=rates)
        for value in options["outage"]:
            vendor, rest = _pair(value, "outage")
            start, _, end = rest.partition(":")
            sandbox.set_faults(vendor, outage_windows=[[float(start), float(end)]])
        for value in options["rate_limit"]:
            vendor, rest = _pair(value, "rate-limit")
            sandbox.set_faults(vendor, rate_limit=float(rest))
