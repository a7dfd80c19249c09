"""`manage.py probe_providers [--provider KEY] [--loop --interval SECONDS]`.

With `--loop` it runs until stopped, each round claiming the providers whose
probe is due, so several loops (one per host) share the work without probing
one provider twice.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from providers.management.commands.discover_models import select_providers
from providers.services import ProbeReport, claim_due_providers, probe_providers


class Command(BaseCommand):
    help = "Probe providers' health: status, latency and capability coverage."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--provider", action="append", dest="keys", metavar="KEY")
        parser.add_argument("--loop", action="store_true", help="Keep probing until stopped.")
        parser.add_argument(
            "--interval",
            type=float,
            default=settings.PROBE_INTERVAL_SECONDS,
            help="Seconds between probes of one provider (with --loop).",
        )

    def handle(self, *args, keys: list[str] | None, loop: bool, interval: float, **options):
        if interval <= 0:
            raise CommandError("--interval must be greater than zero.")
        providers = select_providers(keys)
        if not loop:
            self.write_reports(probe_providers(providers=providers))
            return
        self.stdout.write(f"Probing every {interval:g} s; stop with Ctrl-C.")
        try:
            while True:
                self.step(interval=interval, keys=keys)
                time.sleep(min(interval, 1.0))
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")

    def step(self, *, interval: float, keys: list[str] | None = None) -> list[ProbeReport]:
        """One round of the loop: probe what is due, write, report."""
        reports = probe_providers(providers=claim_due_providers(interval=interval, keys=keys))
        self.write_reports(reports)
        return reports

    def write_reports(self, reports: list[ProbeReport]) -> None:
        for report in reports:
            self.stdout.write(str(report))
