"""`make run`'s second half, as a newcomer meets it: the demo comes up on its own
sandbox, prints a password that signs in, and shows a healthy provider."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.sandbox import BASE_DIR, closed_port_url


def _free_port() -> int:
    return int(closed_port_url().rsplit(":", 1)[1])


@pytest.fixture
def demo(tmp_path: Path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "LLMCALLER_PORT": str(_free_port()),
        "SANDBOX_PORT": str(_free_port()),
        "LMSTUDIO_URL": closed_port_url(),  # as if no LM Studio ran here
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=BASE_DIR, check=True)
    log = tmp_path / "demo.log"
    with open(log, "w") as out:
        process = subprocess.Popen([*manage, "run_demo"], env=env, cwd=BASE_DIR, stdout=out,
                                   stderr=subprocess.STDOUT)  # fmt: skip
    try:
        yield f"http://127.0.0.1:{env['LLMCALLER_PORT']}", log, env
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_the_printed_password_and_token_work_and_the_demo_provider_is_healthy(demo):
    base, log, env = demo
    password = _wait_for_password(log)
    with httpx.Client(base_url=base, trust_env=False, follow_redirects=True) as browser:
        _wait_until_up(browser)
        login = browser.get("/admin/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        browser.post("/admin/login/?next=/admin/", data={
            "csrfmiddlewaretoken": csrf, "username": "admin", "password": password,
        })  # fmt: skip
        providers = browser.get("/admin/providers/provider/").text
        models = browser.get("/admin/providers/model/").text

    assert 'class="health health-ok"' in providers
    assert "qwen2.5-7b-instruct" in models and "text-embedding" in models

    token = re.search(r"API token: (\S+)", log.read_text()).group(1)
    body = {
        "requestId": "r1",
        "callerTool": "demo",
        "messages": [{"role": "user", "content": "Hi"}],
    }
    answer = httpx.post(f"{base}/mcp/chat", json=body, headers={"x-llm-caller-token": token})
    assert answer.status_code == 200
    assert answer.json()["message"]["content"] == "Sandbox reply to: Hi"
    _assert_the_demo_routes_with_a_fallback(base, token, body)

    uat = subprocess.run(
        [sys.executable, "manage.py", "run_uat", "--url", base, "--token", token],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert uat.returncode == 0, uat.stdout + uat.stderr
    assert "8 passed, 0 failed" in uat.stdout  # the demo client's rate limit bites too


def _wait_for_password(log: Path, seconds: float = 30.0) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = re.search(r"password '([^']+)'", log.read_text())
        if found:
            return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"run_demo printed no password:\n{log.read_text()}")


def _wait_until_up(client: httpx.Client, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if client.get("/livez").status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("the demo gateway did not come up")


def _assert_the_demo_routes_with_a_fallback(base: str, token: str, body: dict) -> None:
    """The seeded routing: chat's default with a fallback chain, streams following
    chat, coding sent by task preference."""
    headers = {"x-llm-caller-token": token}
    routing = httpx.post(f"{base}/mcp/chat", json=body, headers=headers).json()
    routing = routing["providerInfo"]["routing"]
    assert (routing["strategy"], routing["chain"]) == ("capability-default", "demo-chat-fallback")
    considered = [c["model"] for c in routing["candidates"] if c["skipped"] is None]
    assert considered[:2] == ["qwen2.5-7b-instruct", "qwen2-vl-7b-instruct"]  # a fallback

    with httpx.stream("POST", f"{base}/mcp/chatStream", json=body, headers=headers) as stream:
        completion = next(line for line in stream.iter_lines() if '"completion"' in line)
    assert '"chain": "demo-chat-fallback"' in completion.replace('":"', '": "')

    coding = dict(body, messages=[{"role": "user", "content": "Fix this Python function"}],
                  task="coding")  # fmt: skip
    answer = httpx.post(f"{base}/mcp/chat", json=coding, headers=headers).json()
    assert answer["providerInfo"]["routing"]["strategy"] == "task-preference"
