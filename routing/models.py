"""Routing's vocabulary. No tables yet: defaults, scores and fallback chains come later."""

from __future__ import annotations

from django.db import models


class Task(models.TextChoices):
    CODING = "coding", "coding"
    RESEARCH = "research", "research"
    CREATIVE = "creative", "creative"
    ANALYSIS = "analysis", "analysis"
    GENERAL = "general", "general"
