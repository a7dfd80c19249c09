"""User acceptance checks against a running gateway, over plain HTTP (`manage.py run_uat`).

Each check takes a `Target` (an httpx client on the gateway's URL carrying the
token) and returns a one-line detail when the v1 contract holds; it raises
`CheckFailed` when it does not and `CheckSkipped` when it cannot apply.
`run_checks` times each one and turns it into a `Result`, with the request
ids the check sent. The target keeps what the answers said about the gateway's
configuration (`configHash`, and `configVersion` where the gateway names it), for
runs kept as evidence. Nothing here prints, and no detail ever holds the token.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

TOKEN_HEADER = "x-llm-caller-token"
HEALTH_STATUSES = {"ok", "degraded", "failed"}
HEALTH_COMPONENTS = ("transport", "router", "database", "cache")
RETRY_AFTER_MAX_S = 60


class CheckFailed(Exception):
    """The gateway broke the contract; the message says how."""


class CheckSkipped(Exception):
    """The check does not apply to this gateway or client; the message says why."""


@dataclass(frozen=True)
class Result:
    name: str
    status: str  # "passed", "failed" or "skipped"
    detail: str
    elapsed_ms: float
    request_ids: tuple[str, ...] = ()


@dataclass
class Target:
    http: httpx.Client
    caller_tool: str = "llmcaller-uat"
    rate_limit_burst: int = 200
    sent: list[str] = dataclasses.field(default_factory=list)  # request ids, in order
    # configHash and configVersion, as the answers named them
    configuration: dict[str, Any] = dataclasses.field(default_factory=dict)

    def body(self, **fields: Any) -> dict[str, Any]:
        request_id = f"uat-{uuid.uuid4().hex[:12]}"
        self.sent.append(request_id)
        return {"requestId": request_id, "callerTool": self.caller_tool, **fields}

    def saw(self, metadata: Any) -> None:
        """Keep the configuration an answer's routing metadata (or health) names."""
        if isinstance(metadata, dict):
            for key in ("configHash", "configVersion"):
                if metadata.get(key) not in (None, ""):
                    self.configuration[key] = metadata[key]

    def chat_body(self, **fields: Any) -> dict[str, Any]:
        return self.body(messages=[{"role": "user", "content": "UAT: say hello."}], **fields)


def expect(condition: Any, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def answer(response: httpx.Response, status: int = 200) -> Any:
    """The JSON body of a response that must have `status`."""
    if response.status_code != status:
        raise CheckFailed(f"expected HTTP {status}, got {_describe(response)}")
    try:
        return response.json()
    except ValueError:
        raise CheckFailed(f"HTTP {response.status_code} with a body that is not JSON") from None


def _describe(response: httpx.Response) -> str:
    try:
        body = response.json()
        return f"HTTP {response.status_code} {body['error']}: {body['message']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"


def expect_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """A v1 error body `{error, message, traceId}` with this status and code."""
    body = answer(response, status)
    expect(isinstance(body, dict), "the error body is not an object")
    expect(body.get("error") == code, f"error is {body.get('error')!r}, expected {code!r}")
    for field in ("message", "traceId"):
        expect(isinstance(body.get(field), str) and body[field], f"the error has no {field}")
    return body


def check_chat(target: Target) -> str:
    body = answer(target.http.post("/mcp/chat", json=target.chat_body()))
    content = (body.get("message") or {}).get("content")
    expect(isinstance(content, str) and content, "no message.content")
    usage = body.get("usage") or {}
    tokens = (usage.get("inputTokens"), usage.get("outputTokens"))
    expect(all(isinstance(n, int) for n in tokens), "usage lacks inputTokens/outputTokens")
    info = body.get("providerInfo") or {}
    routing = info.get("routing")
    expect(isinstance(routing, dict) and routing.get("strategy"), "no providerInfo.routing")
    target.saw(routing)
    expect(isinstance(body.get("traceId"), str) and body["traceId"], "no traceId")
    return f"{info.get('name')}/{info.get('model')} via {routing['strategy']}, {sum(tokens)} tokens"


def check_chat_stream(target: Target) -> str:
    with target.http.stream("POST", "/mcp/chatStream", json=target.chat_body()) as response:
        if response.status_code != 200:
            response.read()
            answer(response)
        kind = response.headers.get("content-type", "")
        expect(kind.startswith("text/event-stream"), f"content type {kind!r}")
        events = [line[5:].strip() for line in response.iter_lines() if line.startswith("data:")]
    expect(events and events[-1] == "[DONE]", "the stream does not end with data: [DONE]")
    try:
        payloads = [json.loads(event) for event in events[:-1]]
    except ValueError:
        raise CheckFailed("an event before [DONE] is not JSON") from None
    expect(payloads, "no event before [DONE]")
    *deltas, last = payloads
    if "error" in last:
        raise CheckFailed(f"error event {last['error']}: {last.get('message')}")
    expect(last.get("type") == "completion", "the last event before [DONE] is no completion")
    expect(last.get("traceId"), "the completion event has no traceId")
    expect(deltas, "no delta event before the completion")
    expect(all(d.get("type") == "delta" for d in deltas), "an event before completion is no delta")
    streamed = "".join(d["delta"]["content"] for d in deltas)
    final = ((last.get("payload") or {}).get("message") or {}).get("content")
    expect(streamed == final, "the deltas do not add up to the completion's content")
    return f"{len(deltas)} delta(s), completion, [DONE]; {len(streamed)} characters"


def check_embed(target: Target) -> str:
    inputs = ["UAT first text", "UAT second text"]
    body = answer(target.http.post("/mcp/embed", json=target.body(inputs=inputs)))
    vectors = body.get("vectors")
    expect(isinstance(vectors, list) and len(vectors) == len(inputs), "not one vector per input")
    expect(all(isinstance(v, list) and v for v in vectors), "an empty vector")
    sizes = {len(v) for v in vectors}
    expect(len(sizes) == 1, f"vectors of different lengths {sorted(sizes)}")
    expect(isinstance(body.get("traceId"), str) and body["traceId"], "no traceId")
    target.saw((body.get("providerInfo") or {}).get("routing"))
    return f"{len(vectors)} vectors of {sizes.pop()} dimensions"


def check_models(target: Target) -> str:
    body = answer(target.http.get("/mcp/models"))
    provider, models = body.get("provider"), body.get("models")
    expect(isinstance(provider, str) and provider, "no provider")
    expect(isinstance(models, list) and models, "no models listed")
    for model in models:
        expect(isinstance(model.get("id"), str) and model["id"], "a model without id")
        expect(isinstance(model.get("ready"), bool), f"{model['id']}: ready is not a boolean")
        expect(isinstance(model.get("defaults"), list), f"{model['id']}: no defaults list")
        expect(isinstance(model.get("scores"), dict), f"{model['id']}: no scores object")
    ready = sum(model["ready"] for model in models)
    return f"provider {provider}: {len(models)} model(s), {ready} ready"


def check_health(target: Target) -> str:
    body = answer(target.http.get("/health"))
    status = body.get("status")
    expect(status in HEALTH_STATUSES, f"status {status!r} is not one of ok/degraded/failed")
    names = [c.get("name") for c in body.get("components") or [] if isinstance(c, dict)]
    missing = [name for name in HEALTH_COMPONENTS if name not in names]
    expect(not missing, f"components missing: {', '.join(missing)}")
    target.saw(body)
    return f"status {status}; {len(names)} components"


def check_wrong_token(target: Target) -> str:
    headers = {TOKEN_HEADER: f"uat-wrong-{uuid.uuid4().hex}"}
    response = target.http.post("/mcp/chat", json=target.chat_body(), headers=headers)
    expect_error(response, 401, "UNAUTHENTICATED")
    return "401 UNAUTHENTICATED with the v1 error body"


def check_unknown_field(target: Target) -> str:
    field = "uatUnknownField"
    response = target.http.post("/mcp/chat", json=target.chat_body(**{field: 1}))
    body = expect_error(response, 400, "BAD_REQUEST")
    expect(field in body["message"], f"the message does not name {field}: {body['message']!r}")
    return f"400 BAD_REQUEST naming {field}"


def check_rate_limit(target: Target) -> str:
    for sent in range(1, target.rate_limit_burst + 1):
        response = target.http.get("/mcp/models")
        if response.status_code == 200:
            continue
        body = expect_error(response, 429, "RATE_LIMIT")
        header = response.headers.get("Retry-After")
        expect(header is not None, "429 without a Retry-After header")
        expect(header.isdigit() and int(header) <= RETRY_AFTER_MAX_S, f"Retry-After {header!r}")
        hint = body.get("retryAfterMs")
        expect(isinstance(hint, int) and 0 <= hint <= RETRY_AFTER_MAX_S * 1000, "bad retryAfterMs")
        return f"429 RATE_LIMIT after {sent} requests; Retry-After {header} s, retryAfterMs {hint}"
    raise CheckSkipped(f"the client has no limit: no 429 in {target.rate_limit_burst} requests")


CHECKS: list[tuple[str, Callable[[Target], str]]] = [
    ("chat", check_chat),
    ("chatStream", check_chat_stream),
    ("embed", check_embed),
    ("models", check_models),
    ("health", check_health),
    ("wrong token", check_wrong_token),
    ("unknown field", check_unknown_field),
    ("rate limit", check_rate_limit),
]


def run_check(name: str, check: Callable[[Target], str], target: Target) -> Result:
    started, first = time.perf_counter(), len(target.sent)
    try:
        status, detail = "passed", check(target)
    except CheckFailed as exc:
        status, detail = "failed", str(exc)
    except CheckSkipped as exc:
        status, detail = "skipped", str(exc)
    except httpx.HTTPError as exc:
        status, detail = "failed", f"no answer: {type(exc).__name__}"
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        status, detail = "failed", f"unexpected answer shape ({type(exc).__name__}: {exc})"
    elapsed = (time.perf_counter() - started) * 1000
    return Result(name, status, detail, elapsed, tuple(target.sent[first:]))


def run_checks(target: Target) -> list[Result]:
    return [run_check(name, check, target) for name, check in CHECKS]


def format_table(results: list[Result]) -> str:
    rows = [("check", "result", "ms", "detail")]
    rows += [(r.name, r.status, f"{r.elapsed_ms:.0f}", r.detail) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        f"{name:<{widths[0]}}  {status:<{widths[1]}}  {ms:>{widths[2]}}  {detail}"
        for name, status, ms, detail in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 6)
    return "\n".join(line.rstrip() for line in lines)


def summary(results: list[Result]) -> str:
    count = {s: sum(r.status == s for r in results) for s in ("passed", "failed", "skipped")}
    line = f"{count['passed']} passed, {count['failed']} failed"
    return f"{line}, {count['skipped']} skipped" if count["skipped"] else line
