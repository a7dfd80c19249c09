"""URL map: the admin, liveness, and (as they land) the API endpoints."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from llmcaller.views import LivenessView

admin.site.site_header = "LLM Caller"
admin.site.site_title = "LLM Caller admin"
admin.site.index_title = "Gateway configuration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("livez", LivenessView.as_view(), name="liveness"),
]
