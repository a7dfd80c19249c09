"""The task classifier: plain signals, predictable decisions, stated reasons."""

from __future__ import annotations

import pytest

from providers.types import ChatMessage
from routing.classifier import classify_task
from routing.types import Classification
from tests.routing.support import user


@pytest.mark.parametrize(
    ("text", "task", "reasons"),
    [
        ("```\nprint(1)\n```", "coding", ("fenced code block",)),
        ("Fix this Python traceback", "coding", ("keyword 'traceback'", "keyword 'python'")),
        ("Analyze the sales data for trends", "analysis",
         ("keyword 'analyze'", "keyword 'data'", "keyword 'trends'")),
        ("Find papers and cite your sources", "research",
         ("keyword 'sources'", "keyword 'cite'", "keyword 'papers'")),
        ("Write a short story about a dragon", "creative", ("keyword 'story'",)),
        ("What time is it in Lisbon?", "general",
         ("no coding, analysis, research or creative signal",)),
    ],
)  # fmt: skip
def test_it_classifies_by_signals(text, task, reasons):
    assert classify_task(user(text)) == Classification(task, reasons)


def test_a_code_block_outweighs_one_keyword_of_another_task():
    found = classify_task(user("Write a story generator:\n```\nimport random\n```"))

    assert found.task == "coding"


def test_a_tie_goes_to_the_earlier_task():
    # one coding keyword, one creative keyword: coding comes first in the tie order
    assert classify_task(user("a poem about a bug")).task == "coding"


def test_words_inside_other_words_do_not_count():
    assert classify_task(user("The codec and the datagram")).task == "general"


def test_only_the_users_messages_count():
    messages = (ChatMessage("system", "You write Python code."), ChatMessage("user", "Hi!"))

    assert classify_task(messages).task == "general"
