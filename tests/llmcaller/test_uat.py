"""`manage.py run_uat` against the real gateway under uvicorn and the sandbox upstream."""

from __future__ import annotations

import re
from io import StringIO

import httpx
import pytest
from django.core.management import CommandError, call_command

from llmcaller.tokens import issue_token
from llmcaller.uat import Target, check_rate_limit, run_check
from tests.factories import ClientFactory

# Six of the checks' requests count against the client's limit (a wrong token does
# not): a limit of 8 lets them all through and makes the rate-limit check bite.
SMALL_LIMIT = 8


def client_token(requests_per_minute: int | None) -> str:
    client = ClientFactory(tool_id="uat", requests_per_minute=requests_per_minute)
    return issue_token(client=client).raw


def run_uat(url: str, token: str, *flags: str) -> tuple[str, bool]:
    """The command's output, and whether it failed."""
    out = StringIO()
    try:
        call_command("run_uat", "--url", url, "--token", token, *flags, stdout=out)
    except CommandError:
        return out.getvalue(), True
    return out.getvalue(), False


def rows(output: str) -> dict[str, tuple[str, str]]:
    """check name → (result, detail), read back from the printed table."""
    found = {}
    for line in output.splitlines():
        cells = re.split(r"\s{2,}", line.strip(), maxsplit=3)
        if len(cells) >= 3 and cells[1] in ("passed", "failed", "skipped"):
            found[cells[0]] = (cells[1], cells[3] if len(cells) > 3 else "")
    return found


def test_every_check_passes_on_a_healthy_gateway_and_the_limit_bites(gateway, provider):
    token = client_token(SMALL_LIMIT)

    output, failed = run_uat(gateway, token)

    table = rows(output)
    assert not failed, output
    assert list(table) == [
        "chat", "chatStream", "embed", "models", "health", "wrong token", "unknown field",
        "rate limit",
    ]  # fmt: skip
    assert {status for status, _ in table.values()} == {"passed"}, output
    status, detail = table["rate limit"]
    assert status == "passed" and re.match(
        r"429 RATE_LIMIT after \d+ requests; Retry-After", detail
    )
    assert output.rstrip().endswith("8 passed, 0 failed")
    assert token not in output
    assert f"token {token[:6]}…" in output


def test_the_columns_are_aligned(gateway, provider):
    output, _ = run_uat(gateway, client_token(SMALL_LIMIT))

    header, rule, *lines = output.splitlines()[1:-1]  # between the title and the summary
    result_at = header.index("result")
    assert rule.split("  ")[1] == "------"
    assert len(lines) == 8
    assert all(line[result_at:].startswith("passed") for line in lines), output


def test_without_a_limit_the_rate_limit_check_is_skipped_not_failed(gateway, provider):
    output, failed = run_uat(gateway, client_token(None), "--rate-limit-burst", "5")

    assert not failed, output
    assert rows(output)["rate limit"] == (
        "skipped",
        "the client has no limit: no 429 in 5 requests",
    )
    assert output.rstrip().endswith("7 passed, 0 failed, 1 skipped")


def test_an_upstream_failing_fails_the_run_and_marks_the_calls(gateway, provider, upstream):
    upstream.set(error_status=500)
    token = client_token(SMALL_LIMIT)

    output, failed = run_uat(gateway, token)

    table = rows(output)
    assert failed
    for name in ("chat", "chatStream", "embed"):
        assert table[name][0] == "failed", output
    assert "HTTP 503 TEMPORARY" in table["chat"][1]
    assert table["models"][0] == table["health"][0] == "passed"
    assert re.search(r"^\d+ passed, 3 failed$", output, re.MULTILINE)
    assert token not in output


def test_a_wrong_token_fails_the_run_and_is_never_printed(gateway, provider):
    wrong = "not-a-real-token-0123456789abcdef"

    output, failed = run_uat(gateway, wrong)

    table = rows(output)
    assert failed
    assert table["chat"][0] == "failed"
    assert table["chat"][1].startswith("expected HTTP 200, got HTTP 401 UNAUTHENTICATED")
    assert table["wrong token"][0] == "passed"
    assert wrong not in output
    assert "not-a-…" in output


def test_a_url_without_a_scheme_is_refused():
    with pytest.raises(CommandError, match="http://"):
        call_command("run_uat", "--url", "127.0.0.1:4037", "--token", "x", stdout=StringIO())


def answering(status: int, headers: dict[str, str], body: dict) -> Target:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers, json=body)

    return Target(httpx.Client(base_url="http://gateway", transport=httpx.MockTransport(handler)))


def test_a_429_without_retry_after_fails_the_rate_limit_check():
    body = {"error": "RATE_LIMIT", "message": "Slow down.", "traceId": "t", "retryAfterMs": 1000}

    result = run_check("rate limit", check_rate_limit, answering(429, {}, body))

    assert (result.status, result.detail) == ("failed", "429 without a Retry-After header")


def test_a_retry_after_over_sixty_seconds_fails_the_rate_limit_check():
    body = {"error": "RATE_LIMIT", "message": "Slow down.", "traceId": "t", "retryAfterMs": 1000}

    result = run_check("rate limit", check_rate_limit, answering(429, {"Retry-After": "120"}, body))

    assert result.status == "failed" and "Retry-After '120'" in result.detail
