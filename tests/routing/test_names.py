"""resolve_model_name: one `model` field, five kinds of name, no ambiguity."""

from __future__ import annotations

import pytest

from routing.names import ModelTarget, UnknownTask, auto_names, resolve_model_name
from tests.routing.support import base_config, compile_config, model


@pytest.fixture
def snapshot():
    config = base_config()
    config["models"].append(model("local", "qwen/qwen3-8b"))  # LM Studio's publisher/model keys
    return compile_config(config)


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("auto", ModelTarget()),
        ("auto:coding", ModelTarget(task="coding")),
        ("chat-safety", ModelTarget(chain="chat-safety")),
        ("cloud/gpt", ModelTarget(provider="cloud", model="gpt")),
        ("local/qwen/qwen3-8b", ModelTarget(provider="local", model="qwen/qwen3-8b")),
        ("qwen/qwen3-8b", ModelTarget(model="qwen/qwen3-8b")),  # "qwen" is no provider
        ("gpt", ModelTarget(model="gpt")),
    ],
)
def test_names_resolve(snapshot, name, target) -> None:
    assert resolve_model_name(name, snapshot) == target


def test_an_unknown_task_is_refused(snapshot) -> None:
    with pytest.raises(UnknownTask):
        resolve_model_name("auto:gardening", snapshot)


def test_auto_names_cover_every_task() -> None:
    assert auto_names()[:2] == ["auto", "auto:coding"] and len(auto_names()) == 6
