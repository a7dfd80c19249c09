"""manage.py roll_up_audit: recompute the hourly roll-ups touched since the last run.

Run it every few minutes (cron, or a loop in the process manager); each run is
idempotent and only recomputes the hours new records touched.
"""

from __future__ import annotations

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from audit.rollups import roll_up_hours


class Command(BaseCommand):
    help = "Recompute the hourly roll-ups of call records recorded since the last run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="ISO 8601 time: recompute hours touched since then.")

    def handle(self, *args: object, since: str | None, **options: object) -> None:
        hours = roll_up_hours(since=_parse(since) if since else None)
        self.stdout.write(self.style.SUCCESS(f"Rolled up {hours} hour(s)."))


def _parse(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise CommandError("--since takes an ISO 8601 time with a zone, e.g. 2026-11-24T00:00Z.")
    return parsed
