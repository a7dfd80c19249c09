"""`python bench/planner.py`: what planning costs per request, in microseconds.

A realistic snapshot (5 providers x 20 models, scores for every model, task
preferences, a default chain per capability, one failed provider and one open
circuit) is compiled in memory, then plan_call runs over a mix of requests:
classified chat prompts of a few sizes, a given task, a pinned model and
embeddings. Figures are printed, never asserted. No database is touched.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "llmcaller.settings")

import django  # noqa: E402

django.setup()

from providers.types import ChatMessage  # noqa: E402
from routing.planner import plan_call  # noqa: E402
from routing.snapshot import build_snapshot  # noqa: E402
from routing.types import CircuitState, RouteRequest  # noqa: E402

PROVIDERS, MODELS = 5, 20
ROUNDS = 20_000


def _models_and_scores(providers: list[str]) -> tuple[list[dict], list[dict]]:
    models, scores = [], []
    for p in providers:
        for m in range(MODELS):
            embed = m % 10 == 9
            models.append({
                "provider": p, "model_id": f"model-{m:02d}", "kind": "llm", "enabled": m != 3,
                "capabilities": ["embed"] if embed else ["chat", "chatStream"],
                "max_context_length": 4096 * (1 + m % 8), "quantization": "", "architecture": "",
                "publisher": "", "description": "", "tool_use": False, "vision": False,
                "source": "discovered",
            })  # fmt: skip
            capability = "embed" if embed else "chat"
            scores.append({"provider": p, "model": f"model-{m:02d}", "capability": capability,
                           "score": (m * 37 + len(p)) % 101, "is_default": False})  # fmt: skip
    return models, scores


def config() -> dict:
    providers = [f"p{i}" for i in range(PROVIDERS)]
    models, scores = _models_and_scores(providers)
    ref = [{"provider": p, "model": f"model-{m:02d}"} for p in providers for m in (1, 5)]
    step = {"on_temporary": True, "on_rate_limit": True, "on_timeout": True, "on_auth": False}
    return {
        "format": "llmcaller-config/1",
        "providers": [
            {
                "key": p,
                "name": p,
                "kind": "lmstudio",
                "base_url": "http://127.0.0.1:1234",
                "timeout_seconds": 30.0,
                "retry_attempts": 2,
                "enabled": True,
                "load_on_demand": p == "p4",
                "credential_env": "",
                "notes": "",
                "capabilities": ["chat", "chatStream", "embed"],
            }
            for p in providers
        ],  # fmt: skip
        "models": models,
        "capability_scores": scores,
        "task_preferences": [
            {"task": task, "models": ref[i::3]}
            for i, task in enumerate(("coding", "research", "analysis"))
        ],
        "fallback_chains": [
            {
                "name": "chat-chain",
                "capability": "chat",
                "is_default": True,
                "description": "",
                "steps": [r | step for r in ref[:4]],
            }
        ],  # fmt: skip
        "fault_rules": [],
    }


def runtime(data: dict) -> dict:
    loaded = {(m["provider"], m["model_id"]): (m["model_id"] < "model-12", None, True)
              for m in data["models"]}  # fmt: skip
    return {"health": {"p0": "ok", "p1": "failed", "p2": "ok", "p3": "ok", "p4": "degraded"},
            "models": loaded}  # fmt: skip


def requests() -> list[RouteRequest]:
    short = "What is the capital of Portugal?"
    code = "Why does this fail?\n```python\nimport json\njson.loads('{')\n```\n" * 3
    essay = "Analyze the quarterly data and compare the trends with last year. " * 60
    user = lambda text: (ChatMessage("system", "Be brief."), ChatMessage("user", text))  # noqa: E731
    return [
        RouteRequest("chat", user(short)),
        RouteRequest("chat", user(code), max_tokens=1024),
        RouteRequest("chatStream", user(essay), max_tokens=2048),
        RouteRequest("chat", user(short), task="research"),
        RouteRequest("chat", user(short), provider="p2", model="model-07"),
        RouteRequest("embed", inputs=("a sentence to embed",) * 8),
    ]


def main() -> None:
    data = config()
    started = time.perf_counter()
    snapshot = build_snapshot(data, runtime(data))
    compile_ms = (time.perf_counter() - started) * 1000
    state = {"p3": CircuitState.OPEN}
    mix = requests()
    print(f"snapshot: {PROVIDERS} providers x {MODELS} models, compiled in {compile_ms:.1f} ms")
    for request in mix:
        print(f"  {_label(request):<44} {_time(request, snapshot, state):7.1f} µs/plan")
    started = time.perf_counter()
    for i in range(ROUNDS):
        plan_call(mix[i % len(mix)], snapshot, state)
    mean = (time.perf_counter() - started) / ROUNDS * 1e6
    print(f"  {'mix of the above':<44} {mean:7.1f} µs/plan")


def _time(request: RouteRequest, snapshot, state) -> float:
    rounds = ROUNDS // 4
    started = time.perf_counter()
    for _ in range(rounds):
        plan_call(request, snapshot, state)
    return (time.perf_counter() - started) / rounds * 1e6


def _label(request: RouteRequest) -> str:
    chars = sum(len(m.content) for m in request.messages) + sum(map(len, request.inputs))
    pin = f" pinned {request.provider}/{request.model}" if request.model else ""
    task = f" task={request.task}" if request.task else " classified" * bool(request.messages)
    return f"{request.capability} {chars} chars{task}{pin}"


if __name__ == "__main__":
    main()
