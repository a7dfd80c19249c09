"""manage.py verify_audit: check the call-record chain; non-zero exit on any problem."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.verification import run_verification


class Command(BaseCommand):
    help = "Verify the call-record hash chain and report every edited, inserted or deleted record."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--actor", default="verify_audit command", help="Who runs it.")

    def handle(self, *args: object, actor: str, **options: object) -> None:
        verification = run_verification(actor=actor)
        for problem in verification.problems:
            record = problem["record_id"] if problem["record_id"] is not None else "-"
            self.stdout.write(f"{problem['kind']:<9} record {record}: {problem['detail']}")
        summary = f"{verification.records_checked} records checked, head at {verification.head_seq}"
        if not verification.ok:
            raise CommandError(f"{len(verification.problems)} problem(s); {summary}.")
        self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {summary}."))
