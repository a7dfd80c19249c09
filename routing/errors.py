"""Why a call could not be routed, and the error class each failure belongs to.

    RoutingError(detail)
    ├── RouteMisconfigured   the configuration has no model for the capability
    └── RouteRefused         the request pins a provider or model we do not have,
                             or one that does not serve the capability

Upstream failures keep their own types (`providers.errors`); `error_class`
names them in the words fallback chains use (TEMPORARY, TIMEOUT, RATE_LIMIT,
AUTH, PERMANENT, and CONFIG for a credential the gateway could not read, which no
fallback step moves on from). `detail` is text this project wrote.
"""

from __future__ import annotations

from providers.errors import (
    CredentialUnavailable,
    UpstreamAuthRejected,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTemporary,
    UpstreamTimeout,
)


class RoutingError(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class RouteMisconfigured(RoutingError):
    pass


class RouteRefused(RoutingError):
    pass


class DeadlineExceeded(UpstreamTimeout):
    """The call's overall deadline passed: no further step is tried."""


def error_class(exc: UpstreamError) -> str:
    if isinstance(exc, UpstreamTimeout):
        return "TIMEOUT"
    if isinstance(exc, UpstreamTemporary):
        return "TEMPORARY"
    if isinstance(exc, UpstreamRateLimited):
        return "RATE_LIMIT"
    if isinstance(exc, UpstreamAuthRejected):
        return "AUTH"
    if isinstance(exc, CredentialUnavailable):
        return "CONFIG"
    return "PERMANENT"
