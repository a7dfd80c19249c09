"""GET /mcp/models: the default provider's models, or a named provider's."""

from __future__ import annotations

from tests.factories import ModelFactory, ProviderFactory
from tests.llmcaller.helpers import CHAT_MODEL, EMBED_MODEL


def test_it_lists_the_default_providers_models_with_their_default_capabilities(api, provider):
    ModelFactory(provider=provider, model_id="zz-unloaded", loaded=False, description="On disk")

    response = api.get("/mcp/models")

    assert response.status_code == 200
    assert response.json() == {
        "provider": "sandbox",
        "models": [
            {"id": CHAT_MODEL, "ready": True, "defaults": ["chat", "chatStream"], "scores": {}},
            {"id": EMBED_MODEL, "ready": True, "defaults": ["embed"], "scores": {}},
            {
                "id": "zz-unloaded",
                "ready": False,
                "description": "On disk",
                "defaults": [],
                "scores": {},
            },
        ],
    }


def test_a_named_provider_is_listed_instead(api, provider):
    other = ProviderFactory(key="zz-other")
    ModelFactory(provider=other, model_id="other-model")

    response = api.get("/mcp/models", params={"provider": "zz-other"})

    assert response.json()["provider"] == "zz-other"
    assert [m["id"] for m in response.json()["models"]] == ["other-model"]


def test_an_unknown_provider_is_permanent(api, provider):
    response = api.get("/mcp/models", params={"provider": "nope"})

    assert (response.status_code, response.json()["error"]) == (422, "PERMANENT")
