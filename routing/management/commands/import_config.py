"""`manage.py import_config FILE [--dry-run]`: apply an export, all or nothing."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from routing.config_import import ConfigImportError, import_config


class Command(BaseCommand):
    help = "Apply a configuration export in one transaction; report what changed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="A file written by export_config ('-': stdin).")
        parser.add_argument("--dry-run", action="store_true", help="Report, change nothing.")

    def handle(self, *args: Any, file: Path, dry_run: bool = False, **options: Any) -> None:
        try:
            text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
            data = json.loads(text)
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        try:
            report = import_config(data, dry_run=dry_run)
        except ConfigImportError as exc:
            raise CommandError(f"Nothing was changed. {exc}") from exc
        for line in report.lines():
            self.stdout.write(line)
