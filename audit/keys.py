"""The trail's keys: HMAC-SHA256 under the key an entry names by its key id.

`AUDIT_TRAIL_KEYS` lists `id:secret` pairs; new entries take the first, and
every listed key still verifies the entries written under it, so a key is
rotated by putting a new one first and keeping the old one after it. An entry
whose key id is empty was written before the trail was keyed (or while no key
was set) and hashes with plain SHA-256, as it always did. One HMAC object per
key is built once and copied per entry: copying skips the key schedule.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

UNKEYED = ""


class UnknownKey(Exception):
    """An entry names a key id that `AUDIT_TRAIL_KEYS` does not list."""

    def __init__(self, key_id: str) -> None:
        super().__init__(key_id)
        self.key_id = key_id


class KeyRing:
    def __init__(self, keys: tuple[tuple[str, str], ...]) -> None:
        self.current_id = keys[0][0] if keys else UNKEYED
        self._macs: Mapping[str, hmac.HMAC] = {
            key_id: hmac.new(secret.encode(), digestmod=hashlib.sha256) for key_id, secret in keys
        }

    def digest(self, key_id: str, data: bytes) -> str:
        """The hex digest of `data` under `key_id` (plain SHA-256 when unkeyed)."""
        if key_id == UNKEYED:
            return hashlib.sha256(data).hexdigest()
        try:
            mac = self._macs[key_id].copy()
        except KeyError:
            raise UnknownKey(key_id) from None
        mac.update(data)
        return mac.hexdigest()

    def knows(self, key_id: str) -> bool:
        return key_id == UNKEYED or key_id in self._macs


@cache
def key_ring() -> KeyRing:
    return KeyRing(settings.AUDIT_TRAIL_KEYS)


@receiver(setting_changed)
def _forget_keys(sender: object, setting: str, **kwargs: object) -> None:
    if setting == "AUDIT_TRAIL_KEYS":
        key_ring.cache_clear()
