"""manage.py prune_audit --older-than DAYS: retention, audited, chain kept verifiable."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.retention import prune_call_records
from audit.verification import run_verification


class Command(BaseCommand):
    help = "Delete call records older than DAYS and expired texts, leaving a checkpoint."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")
        parser.add_argument("--actor", default="prune_audit command", help="Who runs it.")
        parser.add_argument(
            "--skip-verify",
            action="store_true",
            help="Prune without verifying first (by default a whole walk of the chain runs "
            "first, and a broken chain stops the prune, so evidence is not deleted).",
        )

    def handle(self, *args: object, older_than: int, actor: str, **options: object) -> None:
        if older_than < 1:
            raise CommandError("--older-than must be at least 1 day.")
        # A whole walk, not the incremental one: the records about to go are the
        # old ones, which only a whole walk re-reads since they were verified.
        if not options["skip_verify"] and not run_verification(actor=actor, full=True).ok:
            raise CommandError("The audit trail has problems: see verify_audit. Nothing pruned.")
        checkpoint = prune_call_records(older_than_days=older_than, actor=actor)
        if checkpoint is None:
            self.stdout.write("No call record is old enough to prune.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Pruned {checkpoint.records_deleted} records through seq {checkpoint.seq} "
                f"and {checkpoint.contents_deleted} stored texts."
            )
        )
