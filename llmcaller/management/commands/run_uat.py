"""`manage.py run_uat --url URL --token TOKEN [--caller-tool NAME] [--timeout S]
[--rate-limit-burst N]`: acceptance checks against a running gateway over HTTP.

Prints a pass/fail table and `N passed, N failed[, N skipped]`; fails (exit 1)
when any check failed. The token is shown only by its first six characters.
"""

from __future__ import annotations

import httpx
from django.core.management.base import BaseCommand, CommandError, CommandParser

from llmcaller.uat import TOKEN_HEADER, Target, format_table, run_checks, summary

SHOWN_TOKEN_CHARS = 6


class Command(BaseCommand):
    help = "Run the v1 acceptance checks against a running gateway and print a pass/fail table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", required=True, help="The gateway, e.g. http://127.0.0.1:4037")
        parser.add_argument("--token", required=True, help="A client token allowed every method.")
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

    def handle(self, *args, url: str, token: str, **options) -> None:
        if not url.startswith(("http://", "https://")):
            raise CommandError("--url must start with http:// or https://.")
        if options["rate_limit_burst"] < 1 or options["timeout"] <= 0:
            raise CommandError("--rate-limit-burst and --timeout must be positive.")
        # a short token would be given away by its first characters: show none of it
        shown = f"{token[:SHOWN_TOKEN_CHARS]}…" if len(token) > 2 * SHOWN_TOKEN_CHARS else "…"
        self.stdout.write(f"UAT against {url} with token {shown}")
        with httpx.Client(
            base_url=url.rstrip("/"),
            headers={TOKEN_HEADER: token},
            timeout=options["timeout"],
            trust_env=False,  # the URL given, not whatever proxy the environment names
        ) as http:
            target = Target(http, options["caller_tool"], options["rate_limit_burst"])
            results = run_checks(target)
        table = format_table(results)
        if len(token) > SHOWN_TOKEN_CHARS:
            table = table.replace(token, shown)  # belt and braces: no detail should hold it
        self.stdout.write(table)
        self.stdout.write(summary(results))
        failed = [r.name for r in results if r.status == "failed"]
        if failed:
            raise CommandError(f"UAT failed: {', '.join(failed)}.")
