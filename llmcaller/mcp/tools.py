"""The gateway's MCP tools; each tool call is one call through the one call path.

A tool call is admitted as a v1 call is (`admit_caller`: token, allow-list,
rate limit, budget), routed by the same planner and executor, and finished by
the same `CallLog`, whose call record says `door="mcp"`. Each tool answers to
an entry of the client's allow-list (`TOOL_METHODS`). A refusal or a failure
becomes a tool error result ("FORBIDDEN: ...", `isError`): the MCP client gets
a clean error, never a broken transport, and the message is the one the v1 API
would give.

Who calls: over HTTP, the request `llmcaller.mcp.http` identified (its token
and address); over stdio, the caller the command was started for. Both reach a
tool through the server's lifespan state (`DoorState`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from django.http import HttpRequest
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from audit.services import AuditWriteFailed
from audit.types import CallDoor
from llmcaller.api.base import (
    CLIENT_CLOSED_REQUEST,
    admit_caller,
    cache_policy,
    caller_identifier,
    reserve_call,
)
from llmcaller.api.chat import ChatInput, completion_json
from llmcaller.api.health import HealthOutput
from llmcaller.api.models import ModelListOutput
from llmcaller.api.outputs import provider_info_json, usage_json
from llmcaller.auth import CallerClient
from llmcaller.calls import CallLog
from llmcaller.errors import error_shape
from llmcaller.health import gather_health
from llmcaller.mcp import shapes
from llmcaller.models import ApiMethod
from providers.models import Capability
from providers.types import ChatMessage, EmbedRequest
from routing.orchestrator import execute_call, execute_embed
from routing.preview import apreview_plan
from routing.selectors import list_models as select_models
from routing.snapshot import acurrent_snapshot
from routing.types import RoutePlan, RouteRequest

T = TypeVar("T")
SCOPE_KEY = "llmcaller.request"  # where the HTTP door leaves the identified request

TOOL_METHODS = {
    "chat": ApiMethod.CHAT,
    "embed": ApiMethod.EMBED,
    "list_models": ApiMethod.MODELS,
    "get_health": ApiMethod.GET_HEALTH,
    "explain_route": ApiMethod.EXPLAIN_ROUTE,
}


@dataclass(frozen=True)
class DoorState:
    """The server's lifespan state: the stdio caller (None over HTTP)."""

    stdio_caller: HttpRequest | None = None


async def chat(
    messages: shapes.Messages,
    ctx: Context,
    model: shapes.Model = None,
    provider: shapes.Provider = None,
    temperature: shapes.Temperature = None,
    maxTokens: shapes.MaxTokens = None,
    task: shapes.ChatTask = None,
) -> shapes.ChatAnswer:
    """Chat with the model the gateway routes to (or the one pinned), with fallbacks."""
    data = {"messages": [m.model_dump() for m in messages], "model": model,
            "provider": provider, "temperature": temperature, "maxTokens": maxTokens,
            "task": task}  # fmt: skip

    async def work(client: CallerClient, call: CallLog) -> shapes.ChatAnswer:
        call.prompt = data["messages"]
        data["maxTokens"] = await reserve_call(
            client, call, messages=ChatInput.request(data).messages, max_tokens=maxTokens
        )
        routed = await execute_call(
            request=ChatInput.route(data, Capability.CHAT),
            chat=ChatInput.request(data),
            cache=cache_policy(client),
        )
        call.routed(routed)
        call.output = routed.result.message.content
        answer = {**completion_json(routed, call.routing), "traceId": call.trace_id}
        return shapes.ChatAnswer.model_validate(answer)

    return await _run(ctx, "chat", work, reserves=True)


async def embed(
    inputs: shapes.Inputs,
    ctx: Context,
    model: shapes.Model = None,
    provider: shapes.Provider = None,
    dimensions: shapes.Dimensions = None,
) -> shapes.EmbedAnswer:
    """Embed texts with the embedding model the gateway routes to (or the one pinned)."""
    texts = tuple(inputs)

    async def work(client: CallerClient, call: CallLog) -> shapes.EmbedAnswer:
        call.prompt = list(texts)
        await reserve_call(client, call, inputs=texts)
        route = RouteRequest(Capability.EMBED, inputs=texts, provider=provider, model=model)
        embed = EmbedRequest("", texts, dimensions)
        routed = await execute_embed(request=route, embed=embed, cache=cache_policy(client))
        call.routed(routed)
        return shapes.EmbedAnswer(
            vectors=[list(v) for v in routed.result.vectors],
            usage=shapes.Usage(**usage_json(routed.result.usage)),
            providerInfo=shapes.ProviderInfo(**provider_info_json(routed, call.routing)),
            traceId=call.trace_id,
        )

    return await _run(ctx, "embed", work, reserves=True)


async def list_models(ctx: Context, provider: shapes.Provider = None) -> shapes.ModelList:
    """The models a provider serves (the default provider when none is named)."""

    async def work(client: CallerClient, call: CallLog) -> shapes.ModelList:
        listing = select_models(await acurrent_snapshot(), provider_key=provider)
        call.provider = listing.provider
        return shapes.ModelList.model_validate(ModelListOutput(listing).data)

    return await _run(ctx, "list_models", work)


async def get_health(ctx: Context) -> shapes.Health:
    """The status of the gateway's parts and of each provider."""

    async def work(client: CallerClient, call: CallLog) -> shapes.Health:
        return shapes.Health.model_validate(HealthOutput(await gather_health()).data)

    return await _run(ctx, "get_health", work)


async def explain_route(
    prompt: str,
    ctx: Context,
    capability: Capability = Capability.CHAT,
    task: shapes.ChatTask = None,
    provider: shapes.Provider = None,
    model: shapes.Model = None,
    maxTokens: shapes.MaxTokens = None,
) -> shapes.RoutePlan:
    """The plan the gateway would follow now for this prompt, with every reason; it
    calls no provider."""
    is_embed = capability == Capability.EMBED
    request = RouteRequest(
        capability,
        messages=() if is_embed else (ChatMessage("user", prompt),),
        inputs=(prompt,) if is_embed else (),
        task=task, provider=provider, model=model, max_tokens=maxTokens,
    )  # fmt: skip

    async def work(client: CallerClient, call: CallLog) -> shapes.RoutePlan:
        call.prompt = prompt
        return _plan_json(await apreview_plan(request))

    return await _run(ctx, "explain_route", work)


async def _run(
    ctx: Context,
    tool: str,
    work: Callable[[CallerClient, CallLog], Awaitable[T]],
    *,
    reserves: bool = False,
) -> T:
    """Admit, work, record: what `ApiView.dispatch` does for a v1 call. A tool that
    spends tokens (`reserves`) holds its worst case in `work` (`reserve_call`), as
    a v1 chat or embed does; the others only read the budget."""
    call = CallLog(TOOL_METHODS[tool], door=CallDoor.MCP)
    request_id, name = str(ctx.request_id), _client_name(ctx)
    call.identified(request_id, name.strip() or "mcp-client")  # kept if within v1's limits
    try:
        client = await admit_caller(
            _caller(ctx), method=call.method, call=call, budget=not reserves
        )
        caller_identifier(request_id, "requestId")  # too long: refused, as v1 refuses it
        caller_identifier(name, "clientInfo.name")
        result = await work(client, call)
    except asyncio.CancelledError:
        call.outcome = "cancelled"
        await call.finish(CLIENT_CLOSED_REQUEST)
        raise
    except Exception as exc:  # every failure answers as a tool error
        call.fail(exc)
        await _finish(call, error_shape(exc).status)
        raise _tool_error(exc, call) from None
    await _finish(call, 200)
    return result


async def _finish(call: CallLog, status: int) -> None:
    try:
        await call.finish(status)
    except AuditWriteFailed as exc:
        # No answer leaves without its record: the caller retries instead.
        raise _tool_error(exc, call) from None


def _tool_error(exc: BaseException, call: CallLog) -> ToolError:
    shape = error_shape(exc)
    wait = shape.retry_after
    retry = f" Retry after {int(wait * 1000)} ms." if wait is not None else ""
    return ToolError(f"{shape.code}: {shape.message}{retry} (traceId {call.trace_id})")


def _caller(ctx: Context) -> HttpRequest:
    http = ctx.request_context.request
    if http is not None:
        return http.scope[SCOPE_KEY]
    return ctx.request_context.lifespan_context.stdio_caller


def _client_name(ctx: Context) -> str:
    """The name the MCP client gives itself, when this message carries it."""
    info = ctx.request_context.session.client_params
    return getattr(getattr(info, "client_info", None), "name", "") or ""


def _plan_json(plan: RoutePlan) -> shapes.RoutePlan:
    return shapes.RoutePlan(
        capability=str(plan.capability), strategy=plan.strategy,
        task=None if plan.task is None else str(plan.task), taskSource=plan.task_source,
        taskReasons=list(plan.task_reasons), chain=plan.chain,
        steps=[
            shapes.PlannedStep(provider=s.provider, model=s.model, strategy=str(s.strategy),
                               score=s.score, moveOn=list(s.move_on_sorted),
                               needsLoad=s.needs_load)
            for s in plan.steps
        ],
        candidates=[
            shapes.Candidate(provider=c.provider, model=c.model, strategy=str(c.strategy),
                             score=c.score, skipped=c.skipped)
            for c in plan.considered
        ],
        estimatedTokens=plan.estimated_tokens, configHash=plan.config_hash,
    )  # fmt: skip
