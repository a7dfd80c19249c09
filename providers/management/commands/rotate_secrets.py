"""`manage.py rotate_secrets`: re-encrypt every stored credential under the newest key.

Safe while the gateway serves (see `providers.rotation`). Exits 1, naming the
providers only, when some stored value opens with none of the configured keys.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from providers.rotation import rotate_credentials


class Command(BaseCommand):
    help = "Re-encrypt every stored provider credential under the newest key."

    def handle(self, *args, **options) -> None:
        report = rotate_credentials()
        self.stdout.write(str(report))
        if report.unreadable:
            names = ", ".join(report.unreadable)
            raise CommandError(
                f"No configured key opens the stored credential of: {names}. "
                "Add the key it was written with, or set those credentials again."
            )
