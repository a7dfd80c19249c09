"""Admin forms: capabilities as checkboxes instead of raw JSON."""

from __future__ import annotations

from django import forms

from providers.models import Capability, Model, Provider


class CapabilitiesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs) -> None:
        kwargs.pop("encoder", None)
        kwargs.pop("decoder", None)
        kwargs.pop("max_length", None)
        super().__init__(choices=Capability.choices, required=False, **kwargs)


class ProviderForm(forms.ModelForm):
    capabilities = CapabilitiesField(
        label="Capabilities served",
        help_text="A capability no discovered model serves makes the provider degraded.",
    )

    class Meta:
        model = Provider
        fields = [
            "key", "name", "kind", "base_url", "enabled", "load_on_demand", "capabilities",
            "timeout_seconds",
            "retry_attempts", "credential_env", "notes",
        ]  # fmt: skip


class ModelForm(forms.ModelForm):
    capabilities = CapabilitiesField()

    class Meta:
        model = Model
        fields = [
            "provider", "model_id", "kind", "capabilities", "max_context_length",
            "loaded_context_length", "loaded", "quantization", "architecture", "publisher",
            "description", "tool_use", "vision", "enabled", "seen",
        ]  # fmt: skip
