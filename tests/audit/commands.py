"""`verify_audit` as the tests run it: its exit status and everything it said."""

from __future__ import annotations

from io import StringIO

from django.core.management import CommandError, call_command


def run_verify_audit(*args: str) -> tuple[int, str]:
    """(0, output) when the trail verified, (1, output and the error) when not."""
    out = StringIO()
    try:
        call_command("verify_audit", *args, stdout=out)
    except CommandError as exc:
        return 1, out.getvalue() + str(exc)
    return 0, out.getvalue()
