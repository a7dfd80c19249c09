"""Why a call could not be routed, before any upstream was asked.

    RoutingError(detail)
    ├── RouteMisconfigured   the operator's configuration has no answer (no default
    │                        provider, or no enabled model serves the capability)
    └── RouteRefused         the request pins a provider or model we do not have,
                             or one that does not serve the capability

`detail` is text this project wrote; it names only what the caller sent or the
operator configured.
"""

from __future__ import annotations


class RoutingError(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class RouteMisconfigured(RoutingError):
    pass


class RouteRefused(RoutingError):
    pass
