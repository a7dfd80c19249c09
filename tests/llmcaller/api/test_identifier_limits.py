"""requestId and callerTool: the API's limits are the call record's, end to end, on
every door (v1's envelope, /v1's headers, an MCP client's name)."""

from __future__ import annotations

import asyncio

from django.urls import reverse

from audit.models import CallRecord
from tests.llmcaller.helpers import call_mcp_tool, chat_body

LONGEST = 256


def test_a_256_character_request_id_is_kept_whole_and_found_by_an_exact_admin_search(
    api, provider, admin_client
):
    request_id = "r" * (LONGEST - 3) + "end"
    caller_tool = "t" * LONGEST
    body = {**chat_body(), "requestId": request_id, "callerTool": caller_tool}

    assert api.post("/mcp/chat", json=body).status_code == 200
    api.post("/mcp/chat", json={**body, "requestId": request_id[:-1]})  # a near miss

    record = CallRecord.objects.get(request_id=request_id)
    assert record.caller_tool == caller_tool
    page = admin_client.get(reverse("admin:audit_callrecord_changelist"), {"q": request_id})
    assert page.status_code == 200
    assert page.context["cl"].result_count == 1


def test_one_character_more_is_refused_not_cut(api, provider):
    for field in ("requestId", "callerTool"):
        refused = api.post("/mcp/chat", json={**chat_body(), field: "x" * (LONGEST + 1)})

        assert refused.status_code == 400
        assert refused.json()["message"].startswith(f"{field}:")
    assert not CallRecord.objects.filter(http_status=200).exists()


OPENAI_CHAT = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}
OPENAI_IDS = ("x-client-request-id", "x-llm-caller-tool")


def test_openai_id_headers_of_the_longest_length_are_kept_whole(api, provider):
    headers = {
        "x-client-request-id": "r" * (LONGEST - 3) + "end",
        "x-llm-caller-tool": "t" * LONGEST,
    }

    answered = api.post("/v1/chat/completions", json=OPENAI_CHAT, headers=headers)

    record = CallRecord.objects.get(trace_id=answered.headers["x-request-id"])
    assert (record.request_id, record.caller_tool) == tuple(headers.values())


def test_openai_id_headers_one_character_longer_are_refused_not_cut(api, provider):
    for header in OPENAI_IDS:
        refused = api.post(
            "/v1/chat/completions", json=OPENAI_CHAT, headers={header: "x" * (LONGEST + 1)}
        )

        assert refused.status_code == 400
        error = refused.json()["error"]
        assert (error["type"], error["code"], error["param"]) == (
            "invalid_request_error",
            "bad_request",
            header,
        )
        assert error["message"].startswith(f"{header}: ")
    assert not CallRecord.objects.filter(http_status=200).exists()


def test_empty_openai_id_headers_count_as_absent(api, provider):
    # (HTTP clients and servers drop a header value's surrounding whitespace.)
    answered = api.post("/v1/embeddings", json={"model": "auto", "input": "hi"},
                        headers=dict.fromkeys(OPENAI_IDS, ""))  # fmt: skip

    record = CallRecord.objects.get(trace_id=answered.headers["x-request-id"])
    assert answered.status_code == 200
    assert (record.request_id, record.caller_tool) == (record.trace_id, "tests")


def test_an_mcp_client_name_of_the_longest_length_is_kept_whole(gateway, token, provider):
    name = "n" * LONGEST
    chat = {"messages": [{"role": "user", "content": "hi"}]}

    result = asyncio.run(call_mcp_tool(gateway, token, "chat", chat, name=name))

    assert not result.is_error
    assert CallRecord.objects.get(trace_id=result.structured_content["traceId"]).caller_tool == name


def test_an_mcp_client_name_one_character_longer_is_refused_not_cut(gateway, token, provider):
    chat = {"messages": [{"role": "user", "content": "hi"}]}

    result = asyncio.run(call_mcp_tool(gateway, token, "chat", chat, name="n" * (LONGEST + 1)))

    assert result.is_error
    assert "BAD_REQUEST: clientInfo.name: Ensure this field" in result.content[0].text
    record = CallRecord.objects.get()
    assert (record.door, record.outcome) == ("mcp", "invalid_request")
    assert not record.caller_tool.startswith("n")
