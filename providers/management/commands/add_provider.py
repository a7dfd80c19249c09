"""`manage.py add_provider KEY --kind KIND --base-url URL [--credential-env VAR]`.

Creates a provider and runs its discovery, for scripted set-ups.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.history import record_row_change
from audit.models import ChangeSource
from providers.adapters import ADAPTERS
from providers.errors import UpstreamError
from providers.models import Capability, Provider
from providers.services import discover_models


class Command(BaseCommand):
    help = "Create a provider, then discover its models."

    def add_arguments(self, parser) -> None:
        parser.add_argument("key")
        parser.add_argument("--kind", required=True, help=f"One of: {', '.join(ADAPTERS)}.")
        parser.add_argument("--base-url", required=True)
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--credential-env",
            default="",
            metavar="VAR",
            help="Environment variable that holds the API key (its name must start with "
            "LLMCALLER_CREDENTIAL_ENV_PREFIX, LLMCALLER_PROVIDER_ by default).",
        )
        parser.add_argument(
            "--capabilities",
            default="",
            help=f"Comma-separated, among: {', '.join(Capability.values)}.",
        )
        parser.add_argument("--no-discover", action="store_true")

    def handle(self, *args, **options) -> None:
        provider = Provider(
            key=options["key"],
            name=options["name"] or options["key"],
            kind=options["kind"],
            base_url=options["base_url"],
            credential_env=options["credential_env"],
            capabilities=[c for c in options["capabilities"].split(",") if c],
        )
        try:
            provider.full_clean()
            unknown = set(provider.capabilities) - set(Capability.values)
            if unknown:
                raise ValidationError({"capabilities": f"unknown: {', '.join(sorted(unknown))}"})
        except ValidationError as exc:
            raise CommandError(_describe(exc)) from None
        provider.save()
        record_row_change(
            provider, actor="add_provider command", source=ChangeSource.COMMAND, action="add",
            before=None,
        )  # fmt: skip
        self.stdout.write(
            f"Created provider {provider.key} ({provider.get_kind_display()}) "
            f"at {provider.base_url}.{_normalised(options['base_url'], provider.base_url)}"
        )
        if options["no_discover"]:
            return
        try:
            self.stdout.write(str(discover_models(provider=provider)))
        except UpstreamError as exc:
            self.stderr.write(f"Discovery failed: {exc.detail}. Run discover_models later.")


def _normalised(given: str, used: str) -> str:
    if given.strip().rstrip("/") == used:
        return ""
    return f" (given {given}: the gateway adds /v1 itself, so it uses {used})"


def _describe(exc: ValidationError) -> str:
    return "; ".join(f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items())
