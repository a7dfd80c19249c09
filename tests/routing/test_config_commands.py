"""export_config and import_config: canonical, round-tripping, all or nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from providers.models import Capability, Model, Provider
from routing.models import CapabilityScore, FallbackChain, FaultKind, Task
from tests.factories import ModelFactory, ProviderFactory
from tests.routing.factories import (
    CapabilityScoreFactory,
    FallbackStepFactory,
    FaultRuleFactory,
    TaskPreferenceFactory,
)

pytestmark = pytest.mark.django_db


def _configure() -> None:
    local = ProviderFactory(key="local", load_on_demand=True)
    cloud = ProviderFactory(key="cloud", kind="openai", credential_env="LLMCALLER_PROVIDER_OPENAI")
    llama = ModelFactory(provider=local, model_id="qwen/qwen3-8b", max_context_length=32768)
    gpt = ModelFactory(provider=cloud, model_id="gpt-4o", capabilities=["chatStream", "chat"])
    CapabilityScoreFactory(model=llama, score=70, is_default=True)
    CapabilityScoreFactory(model=gpt, score=90)
    TaskPreferenceFactory(task=Task.CODING, model=gpt, position=0)
    TaskPreferenceFactory(task=Task.CODING, model=llama, position=1)
    chain = FallbackStepFactory(model=gpt, chain__name="chat-safety", chain__is_default=True).chain
    FallbackStepFactory(chain=chain, model=llama, on_auth=True)
    FaultRuleFactory(
        name="slow-cloud", provider=cloud, kind=FaultKind.LATENCY, latency_ms=800,
        starts_at=datetime(2026, 1, 1, tzinfo=UTC), expires_at=datetime(2026, 1, 2, tzinfo=UTC),
    )  # fmt: skip


def _export() -> str:
    out = StringIO()
    call_command("export_config", stdout=out)
    return out.getvalue()


def _import(path, *flags: str) -> str:
    out = StringIO()
    call_command("import_config", str(path), *flags, stdout=out)
    return out.getvalue()


def test_the_export_uses_natural_keys_and_no_secrets(monkeypatch):
    monkeypatch.setenv("LLMCALLER_PROVIDER_OPENAI", "sk-very-secret")
    _configure()

    text = _export()
    data = json.loads(text)

    assert "sk-very-secret" not in text
    assert data["providers"][0]["credential_env"] == "LLMCALLER_PROVIDER_OPENAI"
    assert data["models"][0]["capabilities"] == ["chat", "chatStream"]  # sorted, canonical
    assert data["task_preferences"] == [
        {"task": "coding", "models": [{"provider": "cloud", "model": "gpt-4o"},
                                      {"provider": "local", "model": "qwen/qwen3-8b"}]},
    ]  # fmt: skip
    assert '"id"' not in text and "health_status" not in text
    assert text == _export()


def test_export_then_import_into_an_empty_database_gives_the_same_export(tmp_path):
    _configure()
    exported = _export()
    (tmp_path / "config.json").write_text(exported)
    for model in (FallbackChain, CapabilityScore, Model, Provider):
        model.objects.all().delete()

    report = _import(tmp_path / "config.json")

    assert "providers: 2 created (cloud, local)" in report
    assert "fallback_chains: 1 created (chat-safety)" in report
    assert _export() == exported


def test_importing_the_live_configuration_changes_nothing(tmp_path):
    _configure()
    (tmp_path / "config.json").write_text(_export())

    report = _import(tmp_path / "config.json")

    assert "providers: 0 created, 0 updated, 2 unchanged" in report
    assert "fault_rules: 0 created, 0 updated, 1 unchanged" in report


def test_a_dry_run_reports_the_changes_and_saves_none(tmp_path):
    _configure()
    data = json.loads(_export())
    data["capability_scores"][0]["score"] = 99
    data["providers"].append(data["providers"][0] | {"key": "spare"})
    (tmp_path / "config.json").write_text(json.dumps(data))
    before = _export()

    report = _import(tmp_path / "config.json", "--dry-run")

    assert report.startswith("Dry run: nothing was saved.")
    assert "providers: 1 created (spare), 0 updated, 2 unchanged" in report
    assert "capability_scores: 0 created, 1 updated (cloud/gpt-4o chat)" in report
    assert _export() == before


def test_moving_the_default_to_another_model_in_one_file_works(tmp_path):
    _configure()
    data = json.loads(_export())
    for row in data["capability_scores"]:
        row["is_default"] = not row["is_default"]
    (tmp_path / "config.json").write_text(json.dumps(data))

    _import(tmp_path / "config.json")

    assert CapabilityScore.objects.get(is_default=True).model.model_id == "gpt-4o"


@pytest.mark.parametrize(
    ("kind", "index", "change", "named"),
    [
        ("capability_scores", 1, {"score": 150}, "'local/qwen/qwen3-8b chat'"),
        ("models", 0, {"provider": "nowhere"}, "provider 'nowhere'"),
        ("fallback_chains", 0, {"capability": "telepathy"}, "'chat-safety'"),
        ("fault_rules", 0, {"colour": "red"}, "'slow-cloud': unknown field(s) colour"),
        ("providers", 1, {"base_url": "ftp://x"}, "'local'"),
    ],
)
def test_a_bad_file_changes_nothing_and_names_the_entry(tmp_path, kind, index, change, named):
    _configure()
    data = json.loads(_export())
    data["providers"][0]["name"] = "Renamed before the bad entry"
    data[kind][index].update(change)
    (tmp_path / "config.json").write_text(json.dumps(data))
    before = _export()

    with pytest.raises(CommandError, match="Nothing was changed") as raised:
        _import(tmp_path / "config.json")

    assert named in str(raised.value)
    assert _export() == before


def test_a_file_that_is_not_an_export_is_refused(tmp_path):
    (tmp_path / "config.json").write_text('{"providers": []}')

    with pytest.raises(CommandError, match="Not a configuration export"):
        _import(tmp_path / "config.json")


def test_the_export_compiles_fault_rules_into_the_snapshot():
    from routing.snapshot import compile_snapshot

    _configure()

    (fault,) = compile_snapshot().faults
    assert (fault.name, fault.provider, fault.model_id, fault.latency_ms) == (
        "slow-cloud", "cloud", None, 800,
    )  # fmt: skip
    assert Capability.CHAT in compile_snapshot().default_chains
