"""`{% admin_overview as overview %}`: the admin index's overview (llmcaller.overview)."""

from __future__ import annotations

from typing import Any

from django import template

from llmcaller.overview import overview_context

register = template.Library()


@register.simple_tag(takes_context=True)
def admin_overview(context: template.Context) -> dict[str, Any]:
    return overview_context(context["request"])
