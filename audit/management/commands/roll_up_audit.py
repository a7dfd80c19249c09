"""manage.py roll_up_audit: recompute the hourly roll-ups touched since the last run.

Run it every few minutes (cron), or as `--loop --interval SECONDS` beside the
gateway (`make run` does); each run is idempotent and only recomputes the hours
new records touched.
"""

from __future__ import annotations

import time
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from audit.rollups import roll_up_hours


class Command(BaseCommand):
    help = "Recompute the hourly roll-ups of call records recorded since the last run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="ISO 8601 time: recompute hours touched since then.")
        parser.add_argument("--loop", action="store_true", help="Keep rolling up until stopped.")
        parser.add_argument("--interval", type=float, default=60.0,
                            help="Seconds between runs (with --loop).")  # fmt: skip

    def handle(self, *args: object, since: str | None, loop: bool, interval: float, **options):
        if interval <= 0:
            raise CommandError("--interval must be greater than zero.")
        self.step(since=_parse(since) if since else None)
        try:
            while loop:
                time.sleep(interval)
                self.step()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")

    def step(self, *, since: datetime | None = None) -> int:
        hours = roll_up_hours(since=since)
        self.stdout.write(self.style.SUCCESS(f"Rolled up {hours} hour(s)."))
        return hours


def _parse(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise CommandError("--since takes an ISO 8601 time with a zone, e.g. 2026-11-24T00:00Z.")
    return parsed
