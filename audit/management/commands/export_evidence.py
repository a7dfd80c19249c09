"""manage.py export_evidence --release NAME | --pilot NAME [--output FILE]: one
JSON file with the subject, its sign-offs, the configuration version and its
diff, the UAT runs, the call-record summary and the anchor (`audit.evidence`);
`verify_audit --evidence FILE` checks it later."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.evidence import SubjectNotFound, build_pack, pack_json


class Command(BaseCommand):
    help = "Write a release's or a pilot's evidence pack as one JSON file."

    def add_arguments(self, parser: CommandParser) -> None:
        subject = parser.add_mutually_exclusive_group(required=True)
        subject.add_argument("--release", metavar="NAME", help="A release, by name.")
        subject.add_argument("--pilot", metavar="NAME", help="A pilot, by name.")
        parser.add_argument("--output", metavar="FILE", help="Where to write (default: stdout).")
        parser.add_argument("--actor", default="export_evidence command", help="Who exports it.")

    def handle(
        self, *args: object, release: str | None, pilot: str | None, output: str | None,
        actor: str, **options: object,
    ) -> None:  # fmt: skip
        kind, name = ("release", release) if release else ("pilot", pilot)
        try:
            pack = build_pack(kind=kind, name=name, actor=actor)
        except SubjectNotFound as exc:
            raise CommandError(str(exc)) from None
        if output is None:
            self.stdout.write(pack_json(pack), ending="")
            return
        Path(output).write_text(pack_json(pack), encoding="utf-8")
        self.stderr.write(f"Evidence pack of {kind} {name} written to {output}: {pack['digest']}")
