"""Routing: which provider and model answer a call, and how failures are retried."""

from __future__ import annotations

from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"
