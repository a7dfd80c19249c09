"""System checks for the audit trail.

audit.W001   AUDIT_TRAIL_KEYS is unset: entries are hashed without a key, so
             anyone who can write the database can re-hash what they edit
             (only an anchor kept outside the database still shows it)
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=False)
def check_trail_keys(app_configs, **kwargs) -> list[CheckMessage]:
    if settings.AUDIT_TRAIL_KEYS:
        return []
    return [
        Warning(
            "AUDIT_TRAIL_KEYS is unset: the audit trail is hashed without a key, and "
            "whoever can write the database can re-hash an edit.",
            hint="Set AUDIT_TRAIL_KEYS=<id>:<32+ random characters> (see docs/AUDIT.md).",
            id="audit.W001",
        )
    ]
