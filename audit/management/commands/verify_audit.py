"""manage.py verify_audit: check the call-record chain and the governance trail;
non-zero exit on any problem. The call records are checked from the last
verified point (`audit.verified_points`); `--full` walks them all. `--anchor`
prints the heads it verified, to keep outside the database; `--against ANCHOR`
walks the whole chain and also proves nothing up to that anchor was rewritten;
`--evidence FILE` checks an evidence pack: against its anchor, and each of its
sections against the database (`audit.evidence_check`)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.anchors import Anchor, BadAnchor
from audit.evidence_check import BadPack, evidence_problems, pack_anchor, read_pack
from audit.models import AuditVerification
from audit.verification import run_verification


class Command(BaseCommand):
    help = (
        "Verify the call-record chain and the governance trail, and report every edited, "
        "inserted or deleted record."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--actor", default="verify_audit command", help="Who runs it.")
        parser.add_argument(
            "--anchor", action="store_true",
            help="After a clean verification, print the heads verified (keep it outside the "
            "database).",
        )  # fmt: skip
        earlier = parser.add_mutually_exclusive_group()
        earlier.add_argument(
            "--against", metavar="ANCHOR",
            help="An anchor printed by --anchor earlier: prove nothing up to it was rewritten "
            "(walks the whole chain).",
        )  # fmt: skip
        parser.add_argument(
            "--full", action="store_true",
            help="Walk every call record, not only those since the last verified point.",
        )  # fmt: skip
        earlier.add_argument(
            "--evidence", metavar="FILE",
            help="An evidence pack (export_evidence): check it against its anchor, and each "
            "of its sections against the database.",
        )  # fmt: skip

    def handle(
        self, *args: object, actor: str, anchor: bool, against: str | None,
        evidence: str | None, full: bool, **options: object,
    ) -> None:  # fmt: skip
        try:
            pack = read_pack(evidence) if evidence else None
            earlier = pack_anchor(pack) if pack else Anchor.parse(against) if against else None
        except (BadAnchor, BadPack) as exc:
            raise CommandError(str(exc)) from None
        verification = run_verification(actor=actor, anchor=earlier, full=full)
        differing = evidence_problems(pack) if pack else []
        for problem in verification.problems:
            self.stdout.write(f"{problem['kind']:<9} {_where(problem)}: {problem['detail']}")
        for line in differing:
            self.stdout.write(f"evidence  {line}")
        summary = (
            f"{verification.records_checked} records checked (from seq {verification.from_seq}), "
            f"head at {verification.head_seq}; "
            f"{verification.entries_checked} trail entries checked, head at "
            f"{verification.trail_head_seq}"
        )
        if earlier is not None:
            summary += f"; checked against the anchor {earlier}"
        if pack is not None:
            summary += f"; evidence pack {evidence}: {len(differing)} section problem(s)"
        if not verification.ok or differing:
            count = len(verification.problems) + len(differing)
            raise CommandError(f"{count} problem(s); {summary}.")
        self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {summary}."))
        if anchor:
            self.stdout.write(f"Anchor: {_anchor_of(verification)}")


def _where(problem: dict) -> str:
    if problem.get("chain", "calls") == "trail":
        return f"trail {problem['seq'] if problem['seq'] is not None else '-'}"
    return f"record {problem['record_id'] if problem['record_id'] is not None else '-'}"


def _anchor_of(verification: AuditVerification) -> Anchor:
    return Anchor(
        calls=(verification.head_seq, verification.head_hash),
        trail=(verification.trail_head_seq, verification.trail_head_hash),
    )
