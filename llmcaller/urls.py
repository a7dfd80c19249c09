"""URL map: the admin, liveness, the v1 API, the OpenAI-compatible API, OAuth tokens,
the OpenAPI schema and docs.

The v1 paths are also `API_VIEWS`, the table `llmcaller.transport` serves them
from without Django's request handler; the URL patterns keep them reversible
and reachable through Django's test client.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import path
from drf_spectacular.views import SpectacularSwaggerView

from llmcaller.api.chat import ChatStreamView, ChatView
from llmcaller.api.embed import EmbedView
from llmcaller.api.health import HealthView
from llmcaller.api.models import ModelListView
from llmcaller.api.openai_compat.chat_completions import ChatCompletionView
from llmcaller.api.openai_compat.embeddings import EmbeddingsView
from llmcaller.api.openai_compat.models import ModelsView
from llmcaller.api.openai_compat.responses import ResponsesView
from llmcaller.api.schema import SchemaView
from llmcaller.oauth import RevokeTokenView, TokenView
from llmcaller.views import LivenessView, MetricsView

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
    path("metrics", MetricsView.as_view(), name="metrics"),
    path("health", HealthView.as_view(), name="health"),
    path("mcp/chat", ChatView.as_view(), name="chat"),
    path("mcp/chatStream", ChatStreamView.as_view(), name="chat-stream"),
    path("mcp/embed", EmbedView.as_view(), name="embed"),
    path("mcp/models", ModelListView.as_view(), name="models"),
    # The OpenAI-compatible door (llmcaller.api.openai_compat)
    path("v1/chat/completions", ChatCompletionView.as_view(), name="openai-chat-completions"),
    path("v1/embeddings", EmbeddingsView.as_view(), name="openai-embeddings"),
    path("v1/models", ModelsView.as_view(), name="openai-models"),
    path("v1/responses", ResponsesView.as_view(), name="openai-responses"),
]
API_VIEWS = {f"/{pattern.pattern}": pattern.callback for pattern in api_patterns}

urlpatterns = [
    path("admin/", admin.site.urls),
    *api_patterns,
    # OAuth 2 client credentials (llmcaller.oauth): Django's handler serves them.
    path("oauth/token/", TokenView.as_view(), name="oauth-token"),
    path("oauth/revoke/", RevokeTokenView.as_view(), name="oauth-revoke"),
    # The async views are described by schema-only DRF views (llmcaller.api.schema);
    # any client token may read the schema, the docs are for staff.
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
