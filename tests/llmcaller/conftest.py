"""The gateway under uvicorn on loopback, a sandbox provider, a client token."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from llmcaller.tokens import issue_token
from providers.models import Capability, ModelKind, Provider
from tests.factories import ClientFactory, ModelFactory, ProviderFactory
from tests.gateway import running_gateway
from tests.llmcaller.helpers import CHAT_MODEL, EMBED_MODEL
from tests.sandbox import SandboxUpstream


@pytest.fixture(autouse=True)
def _fast_retries(settings) -> None:
    settings.ROUTING_RETRY_BACKOFF_SECONDS = 0.01  # caches are cleared by tests/conftest.py


@pytest.fixture
def gateway(transactional_db) -> Iterator[str]:
    with running_gateway() as url:
        yield url


@pytest.fixture
def provider(upstream: SandboxUpstream, transactional_db) -> Provider:
    provider = ProviderFactory(key="sandbox", base_url=upstream.url, retry_attempts=1)
    ModelFactory(provider=provider, model_id=CHAT_MODEL)
    ModelFactory(
        provider=provider,
        model_id=EMBED_MODEL,
        kind=ModelKind.EMBEDDINGS,
        capabilities=[Capability.EMBED],
    )
    return provider


@pytest.fixture
def token(transactional_db) -> str:
    return issue_token(client=ClientFactory(tool_id="tests")).raw


@pytest.fixture
def api(gateway: str, token: str) -> Iterator[httpx.Client]:
    headers = {"x-llm-caller-token": token}
    with httpx.Client(base_url=gateway, headers=headers, timeout=10, trust_env=False) as client:
        yield client
