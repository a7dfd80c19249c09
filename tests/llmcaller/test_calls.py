"""One JSON line per call on `llmcaller.calls`, prompts redacted unless asked for."""

from __future__ import annotations

import json
import logging

from tests.llmcaller.helpers import CHAT_MODEL, chat_body
from tests.routing.factories import FaultRuleFactory


def _lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "llmcaller.calls"]


def test_a_call_writes_one_line_with_route_outcome_and_tokens_but_no_prompt(api, provider, caplog):
    with caplog.at_level(logging.INFO, logger="llmcaller.calls"):
        api.post("/mcp/chat", json=chat_body("my secret plan"))

    (line,) = _lines(caplog)
    assert {k: line[k] for k in ("method", "requestId", "callerTool", "client", "outcome")} == {
        "method": "chat",
        "requestId": "req-1",
        "callerTool": "tests",
        "client": "tests",
        "outcome": "ok",
    }
    assert (line["provider"], line["model"]) == ("sandbox", CHAT_MODEL)
    assert (line["inputTokens"], line["outputTokens"]) == (3, 6)
    assert line["latencyMs"] > 0
    assert "my secret plan" not in json.dumps(line)


def test_prompts_and_answers_are_logged_when_asked_for(api, provider, caplog, settings):
    settings.LLMCALLER_LOG_PROMPTS = True
    with caplog.at_level(logging.INFO, logger="llmcaller.calls"):
        api.post("/mcp/chatStream", json=chat_body("my plan"))

    (line,) = _lines(caplog)
    assert line["prompt"] == [{"role": "user", "content": "my plan"}]
    assert line["output"] == "Sandbox reply to: my plan"


def test_a_failed_call_logs_its_error_class(api, provider, upstream, caplog):
    upstream.set(error_status=500)
    with caplog.at_level(logging.INFO, logger="llmcaller.calls"):
        api.post("/mcp/chat", json=chat_body())

    (line,) = _lines(caplog)
    assert (line["outcome"], line["error"], line["errorClass"]) == (
        "error",
        "TEMPORARY",
        "UpstreamTemporary",
    )


def test_the_line_logs_the_routing_decision_with_injected_faults_marked(
    api, provider, caplog, settings
):
    settings.LLMCALLER_FAULTS_ENABLED = True
    FaultRuleFactory(name="rehearsal", provider=provider, kind="LATENCY", latency_ms=1)
    with caplog.at_level(logging.INFO, logger="llmcaller.calls"):
        api.post("/mcp/chat", json=chat_body("hello"))

    (line,) = _lines(caplog)
    assert line["route"]["strategy"] == "capability-default"
    assert line["route"]["attempts"] == [f"sandbox/{CHAT_MODEL}:ok [fault rehearsal]"]
