"""`python bench/render.py`: CPU per call of answering, recording and logging.

A routed chat answer like the orchestrator builds (a classified task, three
candidates, a fallback after one failed attempt) is rendered as the chat body,
as the stream's completion event, and as an embed body; then the call record is
built and the call's log line written through the configured handlers (console
and rotating file, both to files in a scratch folder). Each piece is timed in
CPU time (`time.process_time`), which other work on a shared machine moves far
less than wall-clock time. Figures are printed, never asserted. No database is
touched.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
SCRATCH = Path(tempfile.mkdtemp(prefix="llmcaller-bench-render-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "llmcaller.settings")
os.environ["LLMCALLER_LOG_FILE"] = str(SCRATCH / "calls.log")

import django  # noqa: E402

django.setup()

from django.http import JsonResponse  # noqa: E402

from llmcaller.api.chat import chat_json, completion_json  # noqa: E402
from llmcaller.api.embed import embed_json  # noqa: E402
from llmcaller.calls import CallLog, logger  # noqa: E402
from llmcaller.sse import frame  # noqa: E402
from providers.models import Capability  # noqa: E402
from providers.types import ChatMessage, ChatResult, EmbedResult, Usage  # noqa: E402
from routing.models import Task  # noqa: E402
from routing.types import (  # noqa: E402
    Attempt,
    Candidate,
    RoutedChat,
    RoutedEmbed,
    RoutePlan,
    RouteStep,
    RoutingInfo,
    Strategy,
    StreamCompleted,
)

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5000"))
PROMPT = [{"role": "user", "content": "Write a function that reverses a list. " * 4}]


def routing() -> RoutingInfo:
    considered = (
        Candidate("lmstudio", "qwen2.5-coder-7b", Strategy.TASK_PREFERENCE, 90),
        Candidate("ollama", "llama3.1:8b", Strategy.CAPABILITY_DEFAULT, 70),
        Candidate("openai", "gpt-4o-mini", Strategy.CAPABILITY_DEFAULT, None, "circuit open"),
    )
    steps = tuple(RouteStep(c.provider, c.model, c.strategy, c.score) for c in considered[:2])
    plan = RoutePlan(
        Capability.CHAT, Strategy.TASK_PREFERENCE, steps, considered, task=Task.CODING,
        task_source="classified", task_reasons=("code words: function, list",),
        estimated_tokens=40, config_hash="9f2c" * 16,
    )  # fmt: skip
    attempts = (
        Attempt("lmstudio", "qwen2.5-coder-7b", "TEMPORARY", 12.41),
        Attempt("ollama", "llama3.1:8b", "ok", 231.07),
    )
    reason = "lmstudio/qwen2.5-coder-7b: TEMPORARY"
    return RoutingInfo(plan, str(Strategy.FALLBACK), attempts, reason)


ROUTING = routing()
ANSWER = ChatMessage("assistant", "def reverse(items):\n    return items[::-1]\n" * 3)
RESULT = ChatResult("llama3.1:8b", ANSWER, Usage(48, 61))
CHAT = RoutedChat(RESULT, "ollama", "llama3.1:8b", ROUTING)
VECTOR = tuple((i % 97) / 97 for i in range(768))
EMBED = RoutedEmbed(EmbedResult("nomic", (VECTOR,), Usage(5, 0)), "ollama", "nomic", ROUTING)


def call_log(method: str = "chat") -> CallLog:
    call = CallLog(method, request_id="req-1", caller_tool="bench", client="bench", client_id=1)
    call.prompt = PROMPT
    return call


CALL = call_log()


def chat_body(call: CallLog = CALL) -> None:
    """What the chat view does with a routed answer."""
    call.routed(CHAT)
    call.output = CHAT.result.message.content
    JsonResponse(chat_json("req-1", call.trace_id, CHAT, call.routing))


def completion_event(call: CallLog = CALL) -> None:
    """The completion event: the call log is told, then the payload is framed."""
    call.completed(StreamCompleted(CHAT))
    payload = completion_json(CHAT, call.routing)
    frame({"type": "completion", "payload": payload, "traceId": call.trace_id})


def embed_body(call: CallLog = CALL) -> None:
    call.routed(EMBED)
    JsonResponse(embed_json("req-1", call.trace_id, EMBED, call.routing))


def call_record(call: CallLog = CALL) -> None:
    call.record(200)


def log_line(call: CallLog = CALL) -> None:
    """As `CallLog.finish` writes it."""
    logger.info(json.dumps(call.as_dict(), ensure_ascii=False, default=str))


def whole_chat() -> None:
    call = call_log()
    chat_body(call)
    call_record(call)
    log_line(call)


def cpu_us(piece) -> float:
    """Best of three runs, in microseconds of CPU per call."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(ROUNDS):
            piece()
        best = min(best, time.process_time() - started)
    return best / ROUNDS * 1e6


def main() -> None:
    console = next(h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler)
    console.setStream(open(SCRATCH / "console.log", "a"))  # as a served gateway's stderr
    chat_body()  # the call log has a route from here on
    print(f"\nRendering and logging, CPU per call (us), best of 3 x {ROUNDS}")
    try:
        for name, piece in [("chat body", chat_body), ("completion event", completion_event),
                            ("embed body (768 floats)", embed_body), ("call record", call_record),
                            ("log line", log_line), ("a whole chat", whole_chat)]:  # fmt: skip
            print(f"{name:>24}: {cpu_us(piece):8.1f}")
    finally:
        console.close()
        shutil.rmtree(SCRATCH, ignore_errors=True)


if __name__ == "__main__":
    main()
