"""A transparent task classifier: which kind of work is this chat request?

It reads the user's messages and counts plain signals, so an operator can see
and predict every decision. A fenced code block counts twice toward coding;
every other signal is a keyword (whole words, any case) and counts once. The
task with most signals wins; a tie goes to the earlier of coding, analysis,
research, creative; no signal at all means general. The matched signals are
returned as the reasons. Only the first 2,000 characters of each user message
are read: the kind of work shows early, and planning stays cheap for long
prompts (see bench/planner.py).
"""

from __future__ import annotations

import re

from providers.types import ChatMessage
from routing.models import Task
from routing.types import Classification

_KEYWORDS: dict[str, tuple[str, ...]] = {
    Task.CODING: (
        "code", "function", "bug", "debug", "stack trace", "traceback", "exception",
        "compile", "refactor", "regex", "sql", "python", "javascript", "typescript",
        "rust", "java", "unit test", "api", "class", "script",
    ),
    Task.ANALYSIS: (
        "analyze", "analyse", "analysis", "data", "trend", "trends", "metrics",
        "statistics", "compare", "pros and cons", "evaluate", "breakdown", "forecast",
    ),
    Task.RESEARCH: (
        "research", "sources", "cite", "citation", "citations", "literature", "paper",
        "papers", "study", "studies", "evidence", "survey", "state of the art",
    ),
    Task.CREATIVE: (
        "story", "poem", "poetry", "lyrics", "song", "fiction", "novel", "slogan",
        "brainstorm", "imagine", "character", "haiku",
    ),
}  # fmt: skip
_TIE_ORDER = (Task.CODING, Task.ANALYSIS, Task.RESEARCH, Task.CREATIVE)
_READ_CHARS = 2000
_WORD = re.compile(r"[a-z0-9+#]+")


def classify_task(messages: tuple[ChatMessage, ...]) -> Classification:
    text = "\n".join(m.content[:_READ_CHARS] for m in messages if m.role == "user")
    lowered = text.lower()
    words = set(_WORD.findall(lowered))  # one pass over the text; keywords are set lookups
    found = {task: _signals(task, lowered, words) for task in _TIE_ORDER}
    weights = {task: sum(weight for _, weight in found[task]) for task in _TIE_ORDER}
    best = max(_TIE_ORDER, key=lambda task: (weights[task], -_TIE_ORDER.index(task)))
    if weights[best] == 0:
        return Classification(Task.GENERAL, ("no coding, analysis, research or creative signal",))
    return Classification(best, tuple(reason for reason, _ in found[best]))


def _signals(task: str, lowered: str, words: set[str]) -> list[tuple[str, int]]:
    signals = []
    if task == Task.CODING and "```" in lowered:
        signals.append(("fenced code block", 2))
    for keyword in _KEYWORDS[task]:
        phrase = " " in keyword
        if (phrase and _has_phrase(lowered, keyword)) or (not phrase and keyword in words):
            signals.append((f"keyword {keyword!r}", 1))
    return signals


def _has_phrase(lowered: str, phrase: str) -> bool:
    return phrase in lowered and bool(re.search(rf"\b{re.escape(phrase)}\b", lowered))
