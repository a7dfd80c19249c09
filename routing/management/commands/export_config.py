"""`manage.py export_config [--output FILE]`: the live configuration as canonical JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from routing.config_export import canonical_json, export_config


class Command(BaseCommand):
    help = "Write the configuration (no secrets) as canonical JSON to stdout or a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", type=Path, help="Write here instead of stdout.")

    def handle(self, *args: Any, output: Path | None = None, **options: Any) -> None:
        text = canonical_json(export_config())
        if output is None:
            self.stdout.write(text, ending="")
        else:
            output.write_text(text, encoding="utf-8")
