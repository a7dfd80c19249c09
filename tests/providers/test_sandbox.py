"""The sandbox upstream over real loopback HTTP: shapes, framing, every switch."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.core.management import CommandError, call_command

from tests.sandbox import BASE_DIR, SandboxUpstream, start_sandbox

CHAT_MODEL = "qwen2.5-7b-instruct"
EMBED_MODEL = "text-embedding-nomic-embed-text-v1.5"
API_PATHS = [
    ("GET", "/v1/models"),
    ("GET", "/api/v1/models"),
    ("GET", "/api/v0/models"),
    ("POST", "/v1/chat/completions"),
    ("POST", "/v1/embeddings"),
]


@pytest.fixture
def http(upstream: SandboxUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=upstream.url, timeout=5.0, trust_env=False) as client:
        yield client


def chat_body(text: str = "What is two plus two?", **extra: Any) -> dict[str, Any]:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]
    return {"model": CHAT_MODEL, "messages": messages, **extra}


def call(http: httpx.Client, method: str, path: str) -> httpx.Response:
    body = {
        "/v1/chat/completions": chat_body(),
        "/v1/embeddings": {"model": EMBED_MODEL, "input": "hello"},
    }.get(path)
    return http.request(method, path, json=body)


def sse_data(text: str) -> list[str]:
    return [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]


# --- shapes -------------------------------------------------------------------


def test_v1_models_lists_every_catalogue_model(http: httpx.Client) -> None:
    data = http.get("/v1/models").json()
    assert data["object"] == "list"
    assert {row["id"] for row in data["data"]} == {
        CHAT_MODEL,
        "meta-llama-3.1-8b-instruct",
        "qwen2-vl-7b-instruct",
        EMBED_MODEL,
    }


def test_native_v1_models_say_loaded_state_contexts_and_capabilities(http: httpx.Client) -> None:
    rows = {row["key"]: row for row in http.get("/api/v1/models").json()["models"]}
    qwen = rows[CHAT_MODEL]
    assert qwen["loaded_instances"] == [{"id": CHAT_MODEL, "config": {"context_length": 8192}}]
    assert qwen["max_context_length"] == 32768
    assert qwen["quantization"] == {"name": "Q4_K_M", "bits_per_weight": 4.8}
    assert qwen["capabilities"] == {"vision": False, "trained_for_tool_use": True}
    assert rows["meta-llama-3.1-8b-instruct"]["loaded_instances"] == []
    # LM Studio 0.4 lists a VLM as type "llm" with capabilities.vision.
    assert rows["qwen2-vl-7b-instruct"]["type"] == "llm"
    assert rows["qwen2-vl-7b-instruct"]["capabilities"]["vision"] is True
    assert rows[EMBED_MODEL]["type"] == "embedding"


def test_native_v0_models_say_state_and_context_only_when_loaded(http: httpx.Client) -> None:
    data = http.get("/api/v0/models").json()
    rows = {row["id"]: row for row in data["data"]}
    assert data["object"] == "list"
    assert rows[CHAT_MODEL]["state"] == "loaded"
    assert rows[CHAT_MODEL]["loaded_context_length"] == 8192
    assert rows[CHAT_MODEL]["capabilities"] == ["tool_use"]
    assert rows["meta-llama-3.1-8b-instruct"]["state"] == "not-loaded"
    assert "loaded_context_length" not in rows["meta-llama-3.1-8b-instruct"]
    assert {row["type"] for row in data["data"]} == {"llm", "vlm", "embeddings"}


def test_chat_replies_to_the_last_user_message_with_word_counts(http: httpx.Client) -> None:
    data = http.post("/v1/chat/completions", json=chat_body()).json()
    assert data["object"] == "chat.completion"
    assert data["model"] == CHAT_MODEL
    choice = data["choices"][0]
    assert choice["message"] == {
        "role": "assistant",
        "content": "Sandbox reply to: What is two plus two?",
    }
    assert choice["finish_reason"] == "stop"
    # 2 system words + 5 user words in; 8 reply words out.
    assert data["usage"] == {"prompt_tokens": 7, "completion_tokens": 8, "total_tokens": 15}


def test_chat_stops_at_max_tokens_with_finish_reason_length(http: httpx.Client) -> None:
    data = http.post("/v1/chat/completions", json=chat_body(max_tokens=3)).json()
    assert data["choices"][0]["message"]["content"] == "Sandbox reply to:"
    assert data["choices"][0]["finish_reason"] == "length"


def test_chat_stream_sends_several_chunks_then_done(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json=chat_body(stream=True))
    assert response.headers["content-type"] == "text/event-stream"
    events = sse_data(response.text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert len(chunks) > 3
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    text = "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks)
    assert text == "Sandbox reply to: What is two plus two?"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert not any("usage" in chunk for chunk in chunks)


def test_chat_stream_ends_with_a_usage_chunk_when_asked(http: httpx.Client) -> None:
    body = chat_body(stream=True, stream_options={"include_usage": True})
    events = sse_data(http.post("/v1/chat/completions", json=body).text)
    usage_chunk = json.loads(events[-2])
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"] == {"prompt_tokens": 7, "completion_tokens": 8, "total_tokens": 15}


def test_embeddings_are_eight_unit_length_components_by_default(http: httpx.Client) -> None:
    body = {"model": EMBED_MODEL, "input": ["one", "two words"]}
    data = http.post("/v1/embeddings", json=body).json()
    assert [row["index"] for row in data["data"]] == [0, 1]
    for row in data["data"]:
        assert len(row["embedding"]) == 8
        assert math.isclose(math.hypot(*row["embedding"]), 1.0, abs_tol=1e-4)
    assert data["usage"] == {"prompt_tokens": 3, "total_tokens": 3}


def test_embeddings_honour_dimensions(http: httpx.Client) -> None:
    body = {"model": EMBED_MODEL, "input": "text", "dimensions": 32}
    assert len(http.post("/v1/embeddings", json=body).json()["data"][0]["embedding"]) == 32


def test_the_same_input_gets_the_same_answer(http: httpx.Client) -> None:
    first = http.post("/v1/chat/completions", json=chat_body()).json()
    second = http.post("/v1/chat/completions", json=chat_body()).json()
    other = http.post("/v1/chat/completions", json=chat_body("Something else")).json()
    first.pop("created"), second.pop("created")  # the one field that tells the time
    assert first == second
    assert other["choices"] != first["choices"]
    embed = {"model": EMBED_MODEL, "input": ["alpha", "beta"]}
    vectors = [http.post("/v1/embeddings", json=embed).json()["data"] for _ in range(2)]
    assert vectors[0] == vectors[1]
    assert vectors[0][0]["embedding"] != vectors[0][1]["embedding"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", b"{not json"),
        ("/v1/chat/completions", [1, 2]),
        ("/v1/chat/completions", {"model": CHAT_MODEL}),
        ("/v1/chat/completions", chat_body(max_tokens=0)),
        ("/v1/chat/completions", chat_body(stream="yes")),
        ("/v1/chat/completions", {"model": CHAT_MODEL, "messages": [{"role": "x"}]}),
        ("/v1/chat/completions", chat_body() | {"model": EMBED_MODEL}),
        ("/v1/embeddings", {"model": EMBED_MODEL, "input": []}),
        ("/v1/embeddings", {"model": EMBED_MODEL, "input": "x", "dimensions": 0}),
        ("/v1/embeddings", {"model": CHAT_MODEL, "input": "x"}),
    ],
)
def test_a_bad_body_gets_a_400_with_a_json_error(http: httpx.Client, path: str, body: Any) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = http.post(path, content=content)
    assert response.status_code == 400
    assert response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", chat_body() | {"model": "no-such-model"}),
        ("/v1/embeddings", {"model": "no-such-model", "input": "x"}),
    ],
)
def test_an_unknown_model_gets_a_404_like_lm_studio(
    http: httpx.Client, path: str, body: dict[str, Any]
) -> None:
    response = http.post(path, json=body)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"


def test_an_unknown_path_gets_a_404(http: httpx.Client) -> None:
    assert http.get("/v1/nothing").status_code == 404
    assert http.get("/v1/chat/completions").status_code == 404  # right path, wrong method


# --- switches -------------------------------------------------------------------


def test_latency_delays_every_api_answer(upstream: SandboxUpstream, http: httpx.Client) -> None:
    started = time.perf_counter()
    http.get("/v1/models")
    baseline = time.perf_counter() - started
    upstream.set(latency_ms=300)
    started = time.perf_counter()
    assert http.get("/v1/models").status_code == 200
    assert time.perf_counter() - started >= 0.3 > baseline


@pytest.mark.parametrize(("method", "path"), API_PATHS)
def test_error_status_answers_every_api_call_with_it(
    upstream: SandboxUpstream, http: httpx.Client, method: str, path: str
) -> None:
    upstream.set(error_status=503)
    response = call(http, method, path)
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "server_error"


def test_rate_limit_answers_429_with_retry_after(
    upstream: SandboxUpstream, http: httpx.Client
) -> None:
    upstream.set(rate_limit_retry_after=7)
    response = http.post("/v1/chat/completions", json=chat_body())
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json()["error"]["type"] == "rate_limit_error"


def test_a_broken_stream_sends_n_chunks_then_drops_the_connection(
    upstream: SandboxUpstream, http: httpx.Client
) -> None:
    upstream.set(break_stream_after=2)
    received: list[str] = []
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        with http.stream("POST", "/v1/chat/completions", json=chat_body(stream=True)) as response:
            for line in response.iter_lines():
                if line.startswith("data: "):
                    received.append(line)
    assert len(received) == 2
    assert "[DONE]" not in "".join(received)


def test_break_stream_after_leaves_plain_calls_alone(
    upstream: SandboxUpstream, http: httpx.Client
) -> None:
    upstream.set(break_stream_after=0)
    assert http.post("/v1/chat/completions", json=chat_body()).status_code == 200


@pytest.mark.parametrize(("method", "path"), API_PATHS)
def test_malformed_answers_200_with_a_body_that_does_not_parse(
    upstream: SandboxUpstream, http: httpx.Client, method: str, path: str
) -> None:
    upstream.set(malformed=True)
    response = call(http, method, path)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_a_malformed_stream_carries_data_that_is_not_json(
    upstream: SandboxUpstream, http: httpx.Client
) -> None:
    upstream.set(malformed=True)
    events = sse_data(http.post("/v1/chat/completions", json=chat_body(stream=True)).text)
    with pytest.raises(ValueError):
        json.loads(events[0])


def test_legacy_hides_the_native_apis(upstream: SandboxUpstream, http: httpx.Client) -> None:
    upstream.set(legacy=True)
    assert http.get("/api/v1/models").status_code == 404
    assert http.get("/api/v0/models").status_code == 404
    assert http.get("/v1/models").status_code == 200
    assert http.post("/v1/chat/completions", json=chat_body()).status_code == 200


def test_v0_only_hides_api_v1(upstream: SandboxUpstream, http: httpx.Client) -> None:
    upstream.set(v0_only=True)
    assert http.get("/api/v1/models").status_code == 404
    assert http.get("/api/v0/models").status_code == 200


def test_require_api_key_refuses_calls_without_that_bearer(
    upstream: SandboxUpstream, http: httpx.Client
) -> None:
    upstream.set(require_api_key="s3cret")
    assert http.get("/v1/models").status_code == 401
    assert http.get("/v1/models", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert http.get("/v1/models", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_switches_never_touch_the_control_endpoints(
    upstream: SandboxUpstream, http: httpx.Client
) -> None:
    upstream.set(error_status=500, latency_ms=2000, require_api_key="k", legacy=True)
    started = time.perf_counter()
    assert http.get("/_sandbox/requests").status_code == 200
    assert http.get("/_sandbox/behaviour").json()["error_status"] == 500
    assert time.perf_counter() - started < 1.0


def test_requests_counts_api_calls_per_path_and_reset_clears_them(
    upstream: SandboxUpstream, http: httpx.Client
) -> None:
    http.get("/v1/models")
    http.post("/v1/chat/completions", json=chat_body())
    http.post("/v1/chat/completions", json=chat_body())
    assert upstream.requests() == {"/v1/models": 1, "/v1/chat/completions": 2}
    upstream.reset()
    assert upstream.requests() == {}


def test_reset_restores_the_start_behaviour(upstream: SandboxUpstream, http: httpx.Client) -> None:
    upstream.set(error_status=500, v0_only=True)
    upstream.reset()
    assert http.get("/api/v1/models").status_code == 200


@pytest.mark.parametrize(
    "change",
    [{"no_such_switch": 1}, {"latency_ms": -1}, {"latency_ms": True}, {"error_status": 200}],
)
def test_the_control_endpoint_refuses_bad_switches(
    upstream: SandboxUpstream, http: httpx.Client, change: dict[str, Any]
) -> None:
    response = http.post("/_sandbox/behaviour", json=change)
    assert response.status_code == 400
    assert http.get("/_sandbox/behaviour").json()["latency_ms"] == 0  # nothing half-applied


# --- the command ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--error-status", "200"], "--error-status"),
        (["--latency-ms", "-5"], "--latency-ms"),
        (["--port", "70000"], "--port"),
        (["--keep-alive-timeout", "0"], "--keep-alive-timeout"),
    ],
)
def test_the_command_refuses_bad_flag_values(flags: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("sandbox_upstream", *flags)


def test_the_command_line_reports_a_bad_flag_and_exits_non_zero() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "sandbox_upstream", "--break-stream-after", "-1"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "CommandError: Invalid --break-stream-after" in result.stderr


def test_start_flags_set_the_start_behaviour() -> None:
    sandbox = start_sandbox("--v0-only", "--latency-ms", "5", "--rate-limit-retry-after", "3")
    try:
        sandbox.set(latency_ms=0)
        sandbox.reset()  # back to the flags' values, not the defaults
        behaviour = httpx.get(sandbox.url + "/_sandbox/behaviour", trust_env=False).json()
    finally:
        sandbox.stop()
    assert behaviour["v0_only"] is True
    assert behaviour["latency_ms"] == 5
    assert behaviour["rate_limit_retry_after"] == 3
