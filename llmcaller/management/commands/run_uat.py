"""`manage.py run_uat --url URL [--token TOKEN] [--pilot NAME] [--caller-tool NAME]
[--timeout S] [--rate-limit-burst N]`: acceptance checks against a running gateway over HTTP.

Prints a pass/fail table and `N passed, N failed[, N skipped]`; fails (exit 1)
when any check failed. The token is shown only by its first six characters.
With `--pilot`, the run is stored as that pilot's UAT evidence (see
`llmcaller.uat_evidence`), the calls carry the pilot's calling tool (not
`--caller-tool`), and the token, if given, must be one of the pilot's client;
without one, a short-lived token is issued for the run and revoked after it.
"""

from __future__ import annotations

from contextlib import nullcontext

import httpx
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.models import Pilot
from llmcaller.models import ClientToken
from llmcaller.tokens import hash_token
from llmcaller.uat import TOKEN_HEADER, Result, Target, format_table, run_checks, summary
from llmcaller.uat_evidence import PilotClientMissing, pilot_token, run_pilot_uat

SHOWN_TOKEN_CHARS = 6


class Command(BaseCommand):
    help = "Run the v1 acceptance checks against a running gateway and print a pass/fail table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", required=True, help="The gateway, e.g. http://127.0.0.1:4037")
        parser.add_argument("--token", help="A client token allowed every method.")
        parser.add_argument("--pilot", metavar="NAME", help="Store the run as this pilot's UAT.")
        parser.add_argument("--caller-tool", default="llmcaller-uat", help="The callerTool sent.")
        parser.add_argument("--timeout", type=float, default=30.0, metavar="S")
        parser.add_argument(
            "--rate-limit-burst",
            type=int,
            default=200,
            metavar="N",
            help="At most this many requests while waiting for a 429 (they use up the "
            "client's limit for the current minute).",
        )

    def handle(self, *args, url: str, token: str | None, pilot: str | None, **options) -> None:
        if not url.startswith(("http://", "https://")):
            raise CommandError("--url must start with http:// or https://.")
        if options["rate_limit_burst"] < 1 or options["timeout"] <= 0:
            raise CommandError("--rate-limit-burst and --timeout must be positive.")
        if pilot is None and not token:
            raise CommandError("--token is required without --pilot.")
        if pilot is not None:
            results, token = self._for_pilot(_pilot(pilot), url, token, options)
        else:
            results = self._plain(url, token, options)
        shown = _shown(token)
        table = format_table(results)
        if len(token) > SHOWN_TOKEN_CHARS:
            table = table.replace(token, shown)  # belt and braces: no detail should hold it
        self.stdout.write(table)
        self.stdout.write(summary(results))
        failed = [r.name for r in results if r.status == "failed"]
        if failed:
            raise CommandError(f"UAT failed: {', '.join(failed)}.")

    def _plain(self, url: str, token: str, options: dict) -> list[Result]:
        self.stdout.write(f"UAT against {url} with token {_shown(token)}")
        with httpx.Client(
            base_url=url.rstrip("/"),
            headers={TOKEN_HEADER: token},
            timeout=options["timeout"],
            trust_env=False,  # the URL given, not whatever proxy the environment names
        ) as http:
            target = Target(http, options["caller_tool"], options["rate_limit_burst"])
            return run_checks(target)

    def _for_pilot(
        self, pilot: Pilot, url: str, token: str | None, options: dict
    ) -> tuple[list[Result], str]:
        if token and not _belongs(token, pilot.client_id):
            raise CommandError(f"The token is not one of client {pilot.client_name}'s.")
        try:
            with nullcontext(token) if token else pilot_token(pilot) as used:
                self.stdout.write(f"UAT for pilot {pilot.name} against {url} "
                                  f"with token {_shown(used)}")  # fmt: skip
                run, results = run_pilot_uat(
                    pilot, url=url, token=used, trigger="command", actor="manage.py run_uat",
                    timeout=options["timeout"], rate_limit_burst=options["rate_limit_burst"],
                )  # fmt: skip
        except PilotClientMissing as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Stored as UAT run {run.pk} of pilot {pilot.name}.")
        return results, used


def _pilot(name: str) -> Pilot:
    found = Pilot.objects.filter(name=name).first()
    if found is None:
        raise CommandError(f"No pilot named {name!r}.")
    return found


def _belongs(token: str, client_id: int) -> bool:
    tokens = ClientToken.objects.filter(token_hash=hash_token(token), client_id=client_id)
    return tokens.exists()


def _shown(token: str) -> str:
    # a short token would be given away by its first characters: show none of it
    return f"{token[:SHOWN_TOKEN_CHARS]}…" if len(token) > 2 * SHOWN_TOKEN_CHARS else "…"
