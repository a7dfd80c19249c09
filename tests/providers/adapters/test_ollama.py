"""The Ollama adapter: OpenAI-compatible calls, discovery from the native API."""

from __future__ import annotations

import httpx
import pytest

from providers.adapters.ollama import OllamaAdapter
from providers.errors import UpstreamTemporary
from providers.types import EmbedRequest, Usage
from tests.providers.adapters.recorded import ollama as recorded
from tests.providers.adapters.recorded import openai as openai_shapes
from tests.providers.adapters.support import Handler, body, build, chat_request, collect, sse

NATIVE = {"/api/tags": recorded.TAGS, "/api/ps": recorded.PS, "/api/version": recorded.VERSION}


class FakeOllama:
    """Answers the native discovery API; at the `failing` path it hangs up unanswered,
    and /api/show for the `failing_show` model answers HTTP 500."""

    def __init__(self, *, failing_show: str = "", failing: str = "") -> None:
        self.failing_show = failing_show
        self.failing = failing
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.paths.append(path)
        if path == self.failing:
            raise httpx.RemoteProtocolError("hung up", request=request)
        if path == "/api/show":
            name = body(request)["model"]
            if name == self.failing_show:
                return httpx.Response(500, json={"error": "llama runner crashed"})
            return httpx.Response(200, json=recorded.SHOW[name])
        shapes = {
            "/api/tags": recorded.TAGS,
            "/api/ps": recorded.PS,
            "/api/version": recorded.VERSION,
        }
        return httpx.Response(200, json=shapes[path])


def adapter_for(handler: Handler) -> OllamaAdapter:
    return build(OllamaAdapter, handler, kind="ollama", base_url="http://ollama.test:11434")


async def discovered(fake: FakeOllama) -> dict:
    return {model.model_id: model for model in await adapter_for(fake).list_models()}


async def test_it_chats_through_the_openai_compatible_endpoint() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=openai_shapes.CHAT_COMPLETION)

    result = await adapter_for(handler).chat(chat_request(model="llama3.2:latest"))
    assert seen[0].url.path == "/v1/chat/completions"
    assert body(seen[0])["model"] == "llama3.2:latest"
    assert result.usage == Usage(input_tokens=19, output_tokens=2)


async def test_it_streams_through_the_openai_compatible_endpoint() -> None:
    adapter = adapter_for(lambda request: sse(openai_shapes.CHAT_STREAM))
    events = await collect(adapter.stream_chat(chat_request()))
    assert events[-1].result.message.content == "Paris."


async def test_it_embeds_through_the_openai_compatible_endpoint() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=openai_shapes.EMBEDDINGS)

    result = await adapter_for(handler).embed(EmbedRequest(model="nomic-embed-text", inputs=("a",)))
    assert seen[0].url.path == "/v1/embeddings"
    assert len(result.vectors) == 2


async def test_it_lists_every_installed_model_with_tags_facts() -> None:
    models = await discovered(FakeOllama())
    assert list(models) == ["llama3.2:latest", "nomic-embed-text:latest", "llava:7b"]
    assert models["llama3.2:latest"].quantization == "Q4_K_M"
    assert models["nomic-embed-text:latest"].architecture == "nomic-bert"


async def test_it_marks_loaded_models_with_their_loaded_context() -> None:
    models = await discovered(FakeOllama())
    llama, llava = models["llama3.2:latest"], models["llava:7b"]
    assert (llama.loaded, llama.loaded_context_length) == (True, 8192)
    assert (llava.loaded, llava.loaded_context_length) == (False, None)


async def test_it_reads_the_maximum_context_from_model_info() -> None:
    models = await discovered(FakeOllama())
    assert models["llama3.2:latest"].max_context_length == 131072
    assert models["nomic-embed-text:latest"].max_context_length == 2048


async def test_it_maps_completion_and_tools_to_chat_with_tool_use() -> None:
    model = (await discovered(FakeOllama()))["llama3.2:latest"]
    assert (model.kind, model.capabilities) == ("llm", ("chat", "chatStream"))
    assert (model.tool_use, model.vision) == (True, False)


async def test_it_maps_embedding_to_an_embeddings_model() -> None:
    model = (await discovered(FakeOllama()))["nomic-embed-text:latest"]
    assert (model.kind, model.capabilities, model.tool_use) == ("embeddings", ("embed",), False)


async def test_it_maps_vision_to_a_vlm() -> None:
    model = (await discovered(FakeOllama()))["llava:7b"]
    assert (model.kind, model.vision, model.tool_use) == ("vlm", True, False)
    assert model.capabilities == ("chat", "chatStream")


async def test_a_failing_show_keeps_that_models_tags_facts_and_the_others() -> None:
    models = await discovered(FakeOllama(failing_show="llava:7b"))
    assert len(models) == 3
    llava = models["llava:7b"]
    assert (llava.quantization, llava.architecture, llava.loaded) == ("Q4_0", "llama", False)
    assert (llava.vision, llava.max_context_length) == (False, None)
    assert models["llama3.2:latest"].tool_use is True


async def test_it_leaves_loaded_state_unknown_when_ps_fails() -> None:
    models = await discovered(FakeOllama(failing="/api/ps"))
    assert {model.loaded for model in models.values()} == {None}
    assert models["llama3.2:latest"].max_context_length == 131072


async def test_probe_asks_for_the_version_before_listing_models() -> None:
    fake = FakeOllama()
    models = await adapter_for(fake).probe()
    assert fake.paths[:3] == ["/api/version", "/api/tags", "/api/ps"]
    assert len(models) == 3


async def test_probe_stops_when_the_version_check_fails() -> None:
    fake = FakeOllama(failing="/api/version")
    with pytest.raises(UpstreamTemporary):
        await adapter_for(fake).probe()
    # Nothing after the version check (aiohttp may send an idempotent GET twice).
    assert set(fake.paths) == {"/api/version"}
