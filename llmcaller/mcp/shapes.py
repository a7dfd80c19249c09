"""The MCP tools' inputs and structured results, as pydantic models.

The SDK publishes these as each tool's `inputSchema` and `outputSchema` and
validates against them. Names and constraints follow the v1 API (`maxTokens`
up to LLMCALLER_MAX_TOKENS_LIMIT, at least one message or input, temperature
0-2), and results are the v1 JSON shapes (`llmcaller.api`), so a tool that
knows one door knows the other.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.conf import settings
from pydantic import BaseModel, Field

from routing.models import Task

Role = Literal["system", "user", "assistant"]
TaskName = Literal.__getitem__(tuple(Task.values))
Status = Literal["ok", "degraded", "failed"]

Model = Annotated[str | None, Field(max_length=255, description="Pin a model id.")]
Provider = Annotated[str | None, Field(max_length=64, description="Pin a provider key.")]
Temperature = Annotated[float | None, Field(ge=0, le=2)]
MaxTokens = Annotated[int | None, Field(ge=1, le=settings.LLMCALLER_MAX_TOKENS_LIMIT)]
Dimensions = Annotated[int | None, Field(ge=1, description="Vector size, if the model can.")]
ChatTask = Annotated[
    TaskName | None, Field(description="The kind of work; classified from the prompt if absent.")
]


class Message(BaseModel):
    role: Role
    content: str


Messages = Annotated[list[Message], Field(min_length=1)]
Inputs = Annotated[list[str], Field(min_length=1, description="The texts to embed.")]


class Usage(BaseModel):
    inputTokens: int
    outputTokens: int


class ProviderInfo(BaseModel):
    name: str
    model: str
    routing: dict[str, Any] = Field(
        description="How the call was routed: as `providerInfo.routing` in the v1 API."
    )


class ChatAnswer(BaseModel):
    message: Message
    usage: Usage
    providerInfo: ProviderInfo
    traceId: str


class EmbedAnswer(BaseModel):
    vectors: list[list[float]]
    usage: Usage
    providerInfo: ProviderInfo
    traceId: str


class ListedModel(BaseModel):
    id: str
    ready: bool
    description: str | None = None
    defaults: list[str] = Field(description="The capabilities it serves by default.")
    scores: dict[str, int]


class ModelList(BaseModel):
    provider: str
    models: list[ListedModel]


class Coverage(BaseModel):
    capability: str
    status: str


class Component(BaseModel):
    name: str
    status: Status
    details: str | None = None
    lastHeartbeat: str | None = None
    capabilityCoverage: list[Coverage] | None = None


class Health(BaseModel):
    status: Status
    timestamp: str
    components: list[Component]


class PlannedStep(BaseModel):
    provider: str
    model: str
    strategy: str
    score: int | None
    moveOn: list[str] = Field(description="The error classes that move on to the next step.")
    needsLoad: bool = Field(description="Not loaded yet: its provider would load it first.")


class Candidate(BaseModel):
    provider: str
    model: str
    strategy: str
    score: int | None
    skipped: str | None = Field(description="Why it was not used; null: usable.")


class RoutePlan(BaseModel):
    capability: str
    strategy: str | None = Field(description="How the first step was chosen; null: no route.")
    task: str | None
    taskSource: Literal["given", "classified"] | None
    taskReasons: list[str]
    chain: str | None
    steps: list[PlannedStep] = Field(description="The order the gateway would try, first first.")
    candidates: list[Candidate]
    estimatedTokens: int
    configHash: str
