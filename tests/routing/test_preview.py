"""The routing preview page: the plan for a described request, reasons included."""

from __future__ import annotations

import pytest
from django.urls import reverse

from providers.models import HealthStatus
from tests.factories import ModelFactory, ProviderFactory
from tests.routing.factories import CapabilityScoreFactory, TaskPreferenceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def configured(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        local = ProviderFactory(key="local")
        down = ProviderFactory(key="down", health_status=HealthStatus.FAILED)
        CapabilityScoreFactory(model=ModelFactory(provider=local, model_id="llama"), score=60)
        CapabilityScoreFactory(model=ModelFactory(provider=down, model_id="big"), score=95)
        TaskPreferenceFactory(model=ModelFactory(provider=local, model_id="coder"))


def test_the_routing_index_links_to_the_preview(admin_client):
    page = admin_client.get(reverse("admin:app_list", args=["routing"]))

    assert reverse("admin:routing_preview") in page.content.decode()


def test_it_shows_the_plan_and_why_candidates_were_skipped(admin_client, configured):
    page = admin_client.get(
        reverse("admin:routing_preview"), {"capability": "chat", "prompt": "Tell me a joke"}
    )

    plan = page.context["plan"]
    assert plan.strategy == "capability-default"
    assert plan.primary.model == "llama"
    html = page.content.decode()
    assert "provider&#x27;s last probe failed" in html
    assert "general" in html


def test_a_code_prompt_is_routed_by_task_preference(admin_client, configured):
    page = admin_client.get(
        reverse("admin:routing_preview"), {"capability": "chat", "prompt": "```x = 1```"}
    )

    assert page.context["plan"].primary.model == "coder"
    assert "fenced code block" in page.content.decode()


def test_the_preview_needs_a_staff_login(client):
    page = client.get(reverse("admin:routing_preview"))

    assert page.status_code == 302


def test_qa_reads_the_preview_with_no_breadcrumb_to_a_page_it_may_not_open(client):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from audit.roles import QA_GROUP

    qa = get_user_model().objects.create_user("qa", password="pw", is_staff=True)
    qa.groups.add(Group.objects.get(name=QA_GROUP))
    client.force_login(qa)

    page = client.get(reverse("admin:routing_preview"))

    assert page.status_code == 200
    breadcrumbs = page.content.decode().split('class="breadcrumbs"')[1].split("</div>")[0]
    for href in breadcrumbs.split('href="')[1:]:
        assert client.get(href.split('"')[0]).status_code == 200


def test_the_preview_says_a_stream_follows_chats_defaults(admin_client, configured):
    page = admin_client.get(
        reverse("admin:routing_preview"), {"capability": "chatStream", "prompt": "hello"}
    ).content.decode()

    said = page.split('id="plan-stream-settings"')[1].split("</p>")[0]
    assert "chatStream has no defaults of its own: it follows chat's." in said
