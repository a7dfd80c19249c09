"""Re-encrypting stored provider credentials under the newest key.

`rotate_credentials()` rewrites each stored ciphertext with MultiFernet's
`rotate` (decrypt with any configured key, encrypt with the first). Each row is
written with a conditional update on the ciphertext it read, so an admin saving
a new key meanwhile keeps it, and it sends no signal: the plain value does not
change, so workers keep their compiled configuration and keep serving. Rotating
is thus: put the new key first in LLMCALLER_SECRETS_KEYS (every process), run
`rotate_secrets`, then remove the old key and restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.fernet import InvalidToken

from providers.models import Provider
from providers.secrets import reencrypt_credential


@dataclass
class RotationReport:
    rotated: int = 0
    changed_meanwhile: int = 0
    unreadable: list[str] = field(default_factory=list)  # provider keys only

    def __str__(self) -> str:
        text = f"Re-encrypted {self.rotated} stored credentials under the newest key."
        if self.changed_meanwhile:
            text += f" {self.changed_meanwhile} changed meanwhile and were left as saved."
        return text


def rotate_credentials() -> RotationReport:
    report = RotationReport()
    stored = Provider.objects.exclude(credential_ciphertext=b"").order_by("key")
    for pk, key, ciphertext in stored.values_list("pk", "key", "credential_ciphertext"):
        ciphertext = bytes(ciphertext)
        try:
            fresh = reencrypt_credential(ciphertext)
        except InvalidToken:
            report.unreadable.append(key)
            continue
        same_row = Provider.objects.filter(pk=pk, credential_ciphertext=ciphertext)
        if same_row.update(credential_ciphertext=fresh):
            report.rotated += 1
        else:
            report.changed_meanwhile += 1
    return report
