"""The client form: allowed methods as checkboxes over the `ApiMethod` choices."""

from __future__ import annotations

from django import forms

from llmcaller.models import ApiMethod, Client


class ClientForm(forms.ModelForm):
    allowed_methods = forms.MultipleChoiceField(
        choices=ApiMethod.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = Client
        fields = [
            "tool_id",
            "name",
            "allowed_methods",
            "active",
            "requests_per_minute",
            "max_concurrent_streams",
            "daily_token_budget",
            "monthly_token_budget",
            "response_cache_seconds",
            "keeps_content",
            "content_retention_days",
            "notes",
        ]
