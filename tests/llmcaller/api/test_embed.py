"""POST /mcp/embed over loopback against the sandbox's deterministic vectors."""

from __future__ import annotations

import pytest

from providers.sandbox.embeddings import embed_vector
from tests.llmcaller.helpers import EMBED_MODEL, envelope


def test_it_returns_one_vector_per_input_from_the_embeddings_model(api, provider):
    response = api.post("/mcp/embed", json=envelope(inputs=["alpha", "beta"], dimensions=4))

    assert response.status_code == 200
    body = response.json()
    assert body["vectors"] == [embed_vector("alpha", 4), embed_vector("beta", 4)]
    assert body["providerInfo"]["model"] == EMBED_MODEL
    assert body["providerInfo"]["routing"]["capability"] == "embed"
    assert body["requestId"] == "req-1"
    assert set(body["usage"]) == {"inputTokens", "outputTokens"}


@pytest.mark.parametrize(
    ("change", "field"),
    [({"inputs": []}, "inputs"), ({"inputs": [1]}, "inputs[0]"), ({"dimensions": 0}, "dimensions")],
)
def test_bad_inputs_are_rejected_naming_the_field(api, provider, change, field):
    response = api.post("/mcp/embed", json={**envelope(inputs=["x"]), **change})

    assert response.status_code == 400
    assert response.json()["message"].startswith(f"{field}:")


def test_a_chat_model_cannot_embed(api, provider):
    from tests.llmcaller.helpers import CHAT_MODEL

    response = api.post("/mcp/embed", json=envelope(inputs=["x"], model=CHAT_MODEL))

    assert (response.status_code, response.json()["error"]) == (422, "PERMANENT")
