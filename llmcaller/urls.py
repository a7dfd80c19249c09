"""URL map: the admin, liveness, the v1 API and its OpenAPI schema and docs.

The v1 paths are also `API_VIEWS`, the table `llmcaller.transport` serves them
from without Django's request handler; the URL patterns keep them reversible
and reachable through Django's test client.
"""

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
admin.site.site_url = None  # there is no public site: "View site" would be a 404
admin.site.index_template = "admin/llmcaller/overview_index.html"  # llmcaller.overview
# The app list beside every page costs 300 px the call-record and model lists need
# (their key columns must show at 1280 px); the index and breadcrumbs remain.
admin.site.enable_nav_sidebar = False

api_patterns = [
    path("livez", LivenessView.as_view(), name="liveness"),
    path("health", HealthView.as_view(), name="health"),
    path("mcp/chat", ChatView.as_view(), name="chat"),
    path("mcp/chatStream", ChatStreamView.as_view(), name="chat-stream"),
    path("mcp/embed", EmbedView.as_view(), name="embed"),
    path("mcp/models", ModelListView.as_view(), name="models"),
]
API_VIEWS = {f"/{pattern.pattern}": pattern.callback for pattern in api_patterns}

urlpatterns = [
    path("admin/", admin.site.urls),
    *api_patterns,
    # The async views are described by schema-only DRF views (llmcaller.api.schema).
    path("api/schema/", SpectacularAPIView.as_view(urlconf="llmcaller.api.schema"), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
