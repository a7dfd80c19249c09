"""The routing admin: scores refuse bad input, steps keep the order the operator dragged."""

from __future__ import annotations

import pytest
from django.urls import reverse

from providers.models import Capability
from routing.models import CapabilityScore, FallbackChain
from tests.factories import ModelFactory
from tests.routing.factories import (
    CapabilityScoreFactory,
    FallbackChainFactory,
    FallbackStepFactory,
    FaultRuleFactory,
)

pytestmark = pytest.mark.django_db


def _score_form(model_pk: int, score: str, is_default: bool = False) -> dict[str, str]:
    form = {"model": str(model_pk), "capability": Capability.CHAT, "score": score}
    return form | ({"is_default": "on"} if is_default else {})


def test_it_saves_a_score_from_the_add_form(admin_client):
    model = ModelFactory()

    response = admin_client.post(
        reverse("admin:routing_capabilityscore_add"), _score_form(model.pk, "80", True)
    )

    assert response.status_code == 302
    assert CapabilityScore.objects.get(model=model).score == 80


@pytest.mark.parametrize("score", ["101", "-1", "high"])
def test_a_score_outside_0_to_100_is_a_form_error(admin_client, score):
    model = ModelFactory()

    response = admin_client.post(
        reverse("admin:routing_capabilityscore_add"), _score_form(model.pk, score)
    )

    assert response.status_code == 200
    assert "score" in response.context["adminform"].form.errors
    assert not CapabilityScore.objects.exists()


def test_a_second_default_for_a_capability_is_a_form_error(admin_client):
    CapabilityScoreFactory(is_default=True)
    other = ModelFactory()

    response = admin_client.post(
        reverse("admin:routing_capabilityscore_add"), _score_form(other.pk, "60", True)
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert errors == ["Another model is already this capability's default."]


def _chain_form(chain: FallbackChain, positions: dict[int, int]) -> dict[str, str]:
    steps = list(chain.steps.all())
    form = {
        "name": chain.name, "capability": chain.capability, "description": "",
        "steps-TOTAL_FORMS": str(len(steps)), "steps-INITIAL_FORMS": str(len(steps)),
        "steps-MIN_NUM_FORMS": "0", "steps-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    for index, step in enumerate(steps):
        prefix = f"steps-{index}-"
        form |= {
            prefix + "id": str(step.pk), prefix + "chain": str(chain.pk),
            prefix + "model": str(step.model_id), prefix + "position": str(positions[step.pk]),
            prefix + "on_temporary": "on", prefix + "on_timeout": "on",
        }  # fmt: skip
    return form


def test_the_dragged_order_is_saved_through_the_position_field(admin_client):
    chain = FallbackChainFactory(name="chat-local")
    first, second, third = (FallbackStepFactory(chain=chain, position=i) for i in range(3))

    # What the drag-and-drop script submits after moving the third step to the top.
    order = {third.pk: 0, first.pk: 1, second.pk: 2}
    url = reverse("admin:routing_fallbackchain_change", args=[chain.pk])
    response = admin_client.post(url, _chain_form(chain, order))

    assert response.status_code == 302
    assert [s.pk for s in chain.steps.all()] == [third.pk, first.pk, second.pk]
    assert chain.steps.get(pk=first.pk).move_on() == {"TEMPORARY", "TIMEOUT"}


def test_the_chain_page_carries_the_drag_and_drop_script(admin_client):
    chain = FallbackStepFactory().chain

    page = admin_client.get(reverse("admin:routing_fallbackchain_change", args=[chain.pk]))

    assert "routing/sortable_inline.js" in page.content.decode()
    assert 'name="steps-0-position"' in page.content.decode()


def test_the_fault_list_warns_while_faults_are_off(admin_client, settings):
    settings.LLMCALLER_FAULTS_ENABLED = False
    FaultRuleFactory()

    page = admin_client.get(reverse("admin:routing_faultrule_changelist"))

    assert "Fault injection is off" in page.content.decode()
