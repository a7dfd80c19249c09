"""The admin's "Routing preview": the plan the gateway would follow now, for a
request an operator describes, with every reason, and no upstream called."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin import AdminSite
from django.views.generic import TemplateView

from providers.models import Capability
from providers.types import ChatMessage
from routing.breaker import CircuitBreaker
from routing.models import Task
from routing.planner import plan_call
from routing.snapshot import acurrent_snapshot, current_snapshot
from routing.types import RoutePlan, RouteRequest


class PreviewForm(forms.Form):
    capability = forms.ChoiceField(choices=Capability.choices, initial=Capability.CHAT)
    task = forms.ChoiceField(choices=[("", "classify the prompt"), *Task.choices], required=False)
    prompt = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 80}), required=False)
    provider = forms.CharField(required=False, help_text="Pin a provider key (optional).")
    model = forms.CharField(required=False, help_text="Pin a model id (optional).")
    max_tokens = forms.IntegerField(label="maxTokens", min_value=1, required=False)

    def route_request(self) -> RouteRequest:
        data = self.cleaned_data
        text = data["prompt"]
        is_embed = data["capability"] == Capability.EMBED
        return RouteRequest(
            capability=data["capability"],
            messages=() if is_embed or not text else (ChatMessage("user", text),),
            inputs=(text,) if is_embed and text else (),
            task=data["task"] or None,
            provider=data["provider"] or None,
            model=data["model"] or None,
            max_tokens=data["max_tokens"],
        )


class RoutingPreviewView(TemplateView):
    template_name = "admin/routing/preview.html"
    admin_site: AdminSite | None = None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = PreviewForm(self.request.GET or None)
        plan = preview_plan(form.route_request()) if form.is_valid() else None
        site_context = self.admin_site.each_context(self.request) if self.admin_site else {}
        return super().get_context_data(**kwargs) | site_context | {
            "title": "Routing preview",
            "form": form,
            "plan": plan,
        }  # fmt: skip


def preview_plan(request: RouteRequest) -> RoutePlan:
    snapshot = current_snapshot()
    states = CircuitBreaker().states(snapshot.providers)
    return plan_call(request, snapshot, states)


async def apreview_plan(request: RouteRequest) -> RoutePlan:
    """`preview_plan` for async callers (the MCP door's `explain_route`)."""
    snapshot = await acurrent_snapshot()
    states = CircuitBreaker().states(snapshot.providers)
    return plan_call(request, snapshot, states)
