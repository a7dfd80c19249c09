"""The sandbox's own control endpoints, and the state they steer.

`/_sandbox/*` lets a test or a failure rehearsal change the behaviour of a
running sandbox and count what reached it. These paths are never counted and
never misbehave, so a test can always steer the sandbox it has broken.

    GET  /_sandbox/behaviour   the current switches
    POST /_sandbox/behaviour   change the fields in the JSON body, keep the rest
    POST /_sandbox/reset       back to the start values; request counts cleared
    GET  /_sandbox/requests    {"total": n, "paths": {path: n}} since the last reset
"""

from __future__ import annotations

from typing import Any

from providers.sandbox.behaviour import SandboxBehaviour
from providers.sandbox.errors import ApiError
from providers.sandbox.wire import Receive, Send, load_json, read_body, send_error, send_json

PREFIX = "/_sandbox/"


class SandboxState:
    """One sandbox's switches and request counts; owned by its app instance."""

    def __init__(self, start: SandboxBehaviour) -> None:
        self.start = start
        self.behaviour = start
        self.counts: dict[str, int] = {}

    def count(self, path: str) -> None:
        self.counts[path] = self.counts.get(path, 0) + 1

    def reset(self) -> None:
        self.behaviour = self.start
        self.counts = {}

    def change(self, values: Any) -> None:
        if not isinstance(values, dict):
            raise ApiError(400, "The behaviour body must be a JSON object.")
        try:
            self.behaviour = self.behaviour.changed(values)
        except (TypeError, ValueError) as exc:
            raise ApiError(400, str(exc)) from None

    def requests(self) -> dict[str, Any]:
        return {"total": sum(self.counts.values()), "paths": dict(self.counts)}


async def serve_control(
    state: SandboxState, scope: dict[str, Any], receive: Receive, send: Send
) -> None:
    route = (scope["method"], scope["path"][len(PREFIX) :])
    try:
        if route == ("POST", "behaviour"):
            state.change(load_json(await read_body(receive)))
        elif route == ("POST", "reset"):
            state.reset()
        elif route == ("GET", "requests"):
            await send_json(send, 200, state.requests())
            return
        elif route != ("GET", "behaviour"):
            raise ApiError(404, f"No sandbox control endpoint {scope['method']} {scope['path']}.")
    except ApiError as error:
        await send_error(send, error)
        return
    await send_json(send, 200, state.behaviour.as_dict())
