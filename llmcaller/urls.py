"""URL map: the admin, liveness, the v1 API and its OpenAPI schema and docs."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from llmcaller.api.chat import ChatStreamView, ChatView
from llmcaller.api.embed import EmbedView
from llmcaller.api.health import HealthView
from llmcaller.api.models import ModelListView
from llmcaller.views import LivenessView

admin.site.site_header = "LLM Caller"
admin.site.site_title = "LLM Caller admin"
admin.site.index_title = "Gateway configuration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("livez", LivenessView.as_view(), name="liveness"),
    path("health", HealthView.as_view(), name="health"),
    path("mcp/chat", ChatView.as_view(), name="chat"),
    path("mcp/chatStream", ChatStreamView.as_view(), name="chat-stream"),
    path("mcp/embed", EmbedView.as_view(), name="embed"),
    path("mcp/models", ModelListView.as_view(), name="models"),
    # The async views are described by schema-only DRF views (llmcaller.api.schema).
    path("api/schema/", SpectacularAPIView.as_view(urlconf="llmcaller.api.schema"), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
