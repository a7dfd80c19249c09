"""Admin forms: capabilities as checkboxes instead of raw JSON, and a provider's
credential as a write-only field (encrypted on save, never rendered back)."""

from __future__ import annotations

from django import forms

from providers.models import Capability, Model, ModelSource, Provider
from providers.secrets import encrypt_credential
from providers.types import normalise_base_url

BASE_URL_HELP = (
    "Where the provider answers, e.g. http://127.0.0.1:1234. A URL ending in /v1 "
    "(as LM Studio, llama.cpp, vLLM and the OpenAI SDK show it) is accepted: the "
    "gateway keeps the URL without /v1 and adds /v1/... itself; the saved value "
    "shown here is the URL it uses."
)


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
    credential_value = forms.CharField(
        label="API key",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: stored encrypted and never shown again. Leave empty to keep "
        "the stored key.",
    )
    clear_credential = forms.BooleanField(label="Remove the stored API key", required=False)

    class Meta:
        model = Provider
        fields = [
            "key", "name", "kind", "base_url", "enabled", "load_on_demand", "capabilities",
            "timeout_seconds",
            "retry_attempts", "credential_env", "credential_file", "notes",
        ]  # fmt: skip
        help_texts = {"base_url": BASE_URL_HELP}

    def clean_base_url(self) -> str:
        return normalise_base_url(self.cleaned_data["base_url"])

    def clean(self) -> dict:
        # Set before the model's own clean(), which refuses two sources at once.
        data = super().clean()
        if data.get("credential_value"):
            self.instance.credential_ciphertext = encrypt_credential(data["credential_value"])
        elif data.get("clear_credential"):
            self.instance.credential_ciphertext = b""
        return data


class ModelForm(forms.ModelForm):
    capabilities = CapabilitiesField(
        help_text="Changing the kind or the capabilities of a discovered model makes "
        "it declared: discovery then keeps what you set."
    )

    class Meta:
        model = Model
        fields = [
            "provider", "model_id", "kind", "capabilities", "max_context_length",
            "loaded_context_length", "loaded", "quantization", "architecture", "publisher",
            "description", "tool_use", "vision", "enabled", "seen",
        ]  # fmt: skip

    def save(self, commit: bool = True) -> Model:
        # The operator's word on what a discovered model is outranks its name.
        if self.instance.pk and {"kind", "capabilities"} & set(self.changed_data):
            self.instance.source = ModelSource.DECLARED
        return super().save(commit)
