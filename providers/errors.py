"""Typed upstream failures. Adapters raise these; nothing else escapes them.

    UpstreamError(detail, status, retry_after)  any failure talking to a provider
    ├── UpstreamTemporary                  5xx, malformed body: worth retrying
    │   ├── UpstreamUnreachable            connection refused or reset: no answer
    │   └── UpstreamTimeout                no answer within the provider's timeout
    ├── UpstreamRateLimited                429, with the upstream's Retry-After
    ├── UpstreamAuthRejected               401/403: our credential was refused
    ├── UpstreamPermanent                  other 4xx: the request itself is wrong
    │   └── UnsupportedCapability          the provider's kind cannot do this
    └── CredentialUnavailable              our credential is configured but missing or
                                           unreadable: nothing was sent (CONFIG)

`detail` is text this project wrote, safe to show an operator: never the
upstream's body verbatim, never a credential.
"""

from __future__ import annotations


class UpstreamError(Exception):
    def __init__(
        self, detail: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.retry_after = retry_after  # seconds the upstream asked us to wait, if it said


class UpstreamTemporary(UpstreamError):
    pass


class UpstreamUnreachable(UpstreamTemporary):
    pass


class UpstreamTimeout(UpstreamTemporary):
    pass


class UpstreamRateLimited(UpstreamError):
    pass


class UpstreamAuthRejected(UpstreamError):
    pass


class UpstreamPermanent(UpstreamError):
    pass


class UnsupportedCapability(UpstreamPermanent):
    pass


class CredentialUnavailable(UpstreamError):
    """Raised before any request: the detail names the provider, never where the
    credential should have come from."""
