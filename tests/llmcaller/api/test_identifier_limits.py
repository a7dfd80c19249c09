"""requestId and callerTool: the API's limits are the call record's, end to end."""

from __future__ import annotations

from django.urls import reverse

from audit.models import CallRecord
from tests.llmcaller.helpers import chat_body

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
