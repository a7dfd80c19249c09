"""`manage.py discover_models [--provider KEY]`: refresh model rows from upstreams."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from providers.errors import UpstreamError
from providers.models import Provider
from providers.services import discover_models


class Command(BaseCommand):
    help = "Ask providers which models they serve and update the model records."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--provider",
            action="append",
            dest="keys",
            metavar="KEY",
            help="Only this provider (repeatable). Default: every enabled one.",
        )

    def handle(self, *args, keys: list[str] | None, **options) -> None:
        providers = select_providers(keys)
        failures = 0
        for provider in providers:
            try:
                summary = discover_models(provider=provider)
            except UpstreamError as exc:
                failures += 1
                self.stderr.write(f"{provider.key}: discovery failed: {exc.detail}")
            else:
                self.stdout.write(str(summary))
        if failures:
            raise CommandError(f"Discovery failed for {failures} of {len(providers)} providers.")


def select_providers(keys: list[str] | None) -> list[Provider]:
    """The named providers (all must exist), else every enabled one."""
    if not keys:
        return list(Provider.objects.filter(enabled=True))
    providers = list(Provider.objects.filter(key__in=keys))
    missing = sorted(set(keys) - {p.key for p in providers})
    if missing:
        raise CommandError(f"No provider with key {', '.join(missing)}.")
    return providers
