"""`GET /v1/models`: every name this client may route to, in OpenAI's list shape.

A model appears (as `provider/model`) when it is enabled, still found by
discovery, on an enabled provider, and serves a capability the client may
call; then each fallback chain for such a capability, then `auto` and
`auto:<task>`. `owned_by` says the provider, or `llm-caller` for the
gateway's own names.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse

from llmcaller.api.openai_compat.view import OpenAIView
from llmcaller.models import ApiMethod
from providers.models import Capability
from routing.names import auto_names
from routing.snapshot import acurrent_snapshot
from routing.types import Snapshot

GATEWAY = "llm-caller"
# The method a client needs for each capability.
_METHODS = {
    Capability.CHAT: ApiMethod.CHAT,
    Capability.CHAT_STREAM: ApiMethod.CHAT_STREAM,
    Capability.EMBED: ApiMethod.EMBED,
}


class ModelsView(OpenAIView):
    api_method = ApiMethod.MODELS

    async def get(self, request: HttpRequest) -> JsonResponse:
        client = await self.admit_call(request, ApiMethod.MODELS)
        capabilities = {c for c, method in _METHODS.items() if method in client.methods}
        data = routable_names(await acurrent_snapshot(), capabilities)
        return JsonResponse({"object": "list", "data": data})


def routable_names(snapshot: Snapshot, capabilities: set[str]) -> list[dict[str, Any]]:
    rows = [
        _row(f"{m.provider}/{m.model_id}", m.provider)
        for m in snapshot.models.values()
        if m.enabled and m.seen and m.capabilities & capabilities
        and snapshot.providers[m.provider].enabled
    ]  # fmt: skip
    rows += [
        _row(c.name, GATEWAY) for c in snapshot.chains.values() if c.capability in capabilities
    ]
    if capabilities:
        rows += [_row(name, GATEWAY) for name in auto_names()]
    return rows


def _row(name: str, owner: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": owner}
