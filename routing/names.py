"""What a caller's model name means: a model, `provider/model`, a chain, or `auto`.

OpenAI-style callers name everything in one `model` field. `resolve_model_name`
reads it against the snapshot, in this order, so no name is ambiguous:

    auto                 the planner decides (task preference, defaults)
    auto:<task>          the planner decides, for that task
    a chain's name       that fallback chain, in its order
    <provider>/<model>   a pin, when <provider> is a provider's key
    anything else        a model id, pinned on whichever provider serves it

A model id may itself contain "/" (LM Studio's `publisher/model` keys), which
is why the provider prefix counts only when it names a provider.
"""

from __future__ import annotations

from dataclasses import dataclass

from routing.models import Task
from routing.types import Snapshot

AUTO = "auto"


@dataclass(frozen=True)
class ModelTarget:
    provider: str | None = None
    model: str | None = None
    chain: str | None = None
    task: str | None = None


class UnknownTask(ValueError):
    """`auto:<task>` named no task the gateway knows."""


def resolve_model_name(name: str, snapshot: Snapshot) -> ModelTarget:
    if name == AUTO:
        return ModelTarget()
    if name.startswith(AUTO + ":"):
        task = name.removeprefix(AUTO + ":")
        if task not in Task.values:
            raise UnknownTask(f"{task!r} is not a task; use one of {', '.join(Task.values)}.")
        return ModelTarget(task=task)
    if name in snapshot.chains:
        return ModelTarget(chain=name)
    provider, _, model = name.partition("/")
    if model and provider in snapshot.providers:
        return ModelTarget(provider=provider, model=model)
    return ModelTarget(model=name)


def auto_names() -> list[str]:
    """The `auto` names a caller may use: `auto`, then one per task."""
    return [AUTO, *(f"{AUTO}:{task}" for task in Task.values)]
