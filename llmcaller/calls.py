"""One structured JSON line per API call, on the logger `llmcaller.calls`.

A `CallLog` is filled in as a request goes (who called, which route answered,
tokens) and written once, when the response or the stream ends. Prompts and
answers appear only when `LLMCALLER_LOG_PROMPTS` is on; otherwise the line says
"[redacted]" and their lengths. Error classes are ours or `providers.errors`',
never upstream text.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from llmcaller.errors import error_shape
from providers.types import Usage
from routing.types import StreamCompleted

logger = logging.getLogger("llmcaller.calls")
REDACTED = "[redacted]"


@dataclass
class CallLog:
    method: str
    trace_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: float = field(default_factory=time.perf_counter)
    request_id: str = ""
    caller_tool: str = ""
    client: str = ""
    provider: str = ""
    model: str = ""
    usage: Usage = field(default_factory=Usage)
    prompt: Any = None
    output: Any = None
    output_chars: int = 0
    outcome: str = "ok"
    error: str = ""
    error_class: str = ""
    completed_stream: bool = False
    written: bool = False

    def routed(self, provider: str, model: str, usage: Usage) -> None:
        self.provider, self.model, self.usage = provider, model, usage

    def fail(self, exc: BaseException) -> None:
        self.outcome = "error"
        self.error = error_shape(exc).code
        self.error_class = type(exc).__name__

    # --- a stream reports here (llmcaller.sse.StreamObserver) ---------------------

    def delta(self, text: str) -> None:
        self.output_chars += len(text)
        if settings.LLMCALLER_LOG_PROMPTS:
            self.output = (self.output or "") + text

    def completed(self, event: StreamCompleted) -> None:
        routed = event.routed
        self.routed(routed.provider, routed.model, routed.result.usage)
        self.completed_stream = True

    def failed(self, exc: BaseException) -> None:
        self.fail(exc)

    def end_stream(self) -> None:
        """A stream that neither completed nor failed was cut off by its client."""
        if not self.completed_stream and self.outcome == "ok":
            self.outcome = "cancelled"
        self.write()

    def write(self) -> None:
        """Log the line once; later calls (a stream's cleanup) do nothing."""
        if self.written:
            return
        self.written = True
        logger.info(json.dumps(self.as_dict(), ensure_ascii=False, default=str))

    def as_dict(self) -> dict[str, Any]:
        show = settings.LLMCALLER_LOG_PROMPTS
        return {
            "event": "call",
            "method": self.method,
            "traceId": self.trace_id,
            "requestId": self.request_id,
            "callerTool": self.caller_tool,
            "client": self.client,
            "provider": self.provider,
            "model": self.model,
            "outcome": self.outcome,
            "error": self.error or None,
            "errorClass": self.error_class or None,
            "latencyMs": round((time.perf_counter() - self.started) * 1000, 1),
            "inputTokens": self.usage.input_tokens,
            "outputTokens": self.usage.output_tokens,
            "outputChars": self.output_chars,
            "prompt": self.prompt if show else REDACTED,
            "output": self.output if show else REDACTED,
        }
