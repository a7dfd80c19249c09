"""`manage.py issue_token CLIENT --methods chat,embed [--create] [--expires-in DAYS]`.

Prints the new raw token alone on stdout (so `TOKEN=$(… issue_token …)` works);
everything else goes to stderr.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.history import record_row_change, snapshot
from audit.models import ChangeSource
from llmcaller.models import ApiMethod, Client
from llmcaller.tokens import issue_token


class Command(BaseCommand):
    help = "Issue a new token for a client (its tool id); prints the token alone."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client", help="The client's tool id.")
        parser.add_argument(
            "--methods",
            default="",
            help=f"Comma-separated allowed methods, among {','.join(ApiMethod.values)}; "
            "replaces the client's list when given.",
        )
        parser.add_argument("--create", action="store_true", help="Create the client if missing.")
        parser.add_argument("--expires-in", type=float, metavar="DAYS", default=None)

    def handle(self, *args, client: str, methods: str, create: bool, **options) -> None:
        chosen = [m.strip() for m in methods.split(",") if m.strip()]
        unknown = sorted(set(chosen) - set(ApiMethod.values))
        if unknown:
            raise CommandError(f"Unknown method(s): {', '.join(unknown)}.")
        record = self._client(client, create)
        before = snapshot(record) if record.pk else None
        if chosen:
            record.allowed_methods = chosen
        try:
            record.full_clean()
        except ValidationError as exc:
            raise CommandError(f"The client is not valid: {exc}") from None
        if before is None or snapshot(record) != before:
            record.save()
            record_row_change(
                record, actor="issue_token command", source=ChangeSource.COMMAND,
                action="add" if before is None else "change", before=before,
            )  # fmt: skip
        issued = issue_token(
            client=record, expires_in_days=options["expires_in"], actor="issue_token command",
            source=ChangeSource.COMMAND,
        )  # fmt: skip
        self.stderr.write(f"Issued token {issued.token.prefix}… for {record.tool_id}.")
        self.stdout.write(issued.raw)

    def _client(self, tool_id: str, create: bool) -> Client:
        found = Client.objects.filter(tool_id=tool_id).first()
        if found is not None:
            return found
        if not create:
            raise CommandError(f"No client {tool_id!r}; pass --create to create it.")
        return Client(tool_id=tool_id, name=tool_id)
