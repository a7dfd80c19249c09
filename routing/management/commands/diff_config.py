"""`manage.py diff_config A B`: what changed from version A to version B.

A and B are version numbers, or `working` for the working copy (the live
tables). The output is the admin's structured diff, one line per row added
(+), removed (-) or changed (~), then one line per field: before -> after.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from routing.config_diff import diff_configs, format_changes
from routing.models import ConfigVersion
from routing.versions import working_copy


class Command(BaseCommand):
    help = "Compare two configuration versions (numbers, or 'working' for the working copy)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("old", help="A version number, or 'working'.")
        parser.add_argument("new", help="A version number, or 'working'.")

    def handle(self, *args: Any, old: str, new: str, **options: Any) -> None:
        for line in format_changes(diff_configs(_load(old), _load(new))):
            self.stdout.write(line)


def _load(name: str) -> dict[str, Any]:
    if name == "working":
        return working_copy()[0]
    version = ConfigVersion.objects.filter(number=int(name) if name.isdigit() else -1).first()
    if version is None:
        raise CommandError(f"No configuration version {name!r} (a number, or 'working').")
    return json.loads(version.canonical)
