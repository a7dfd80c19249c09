"""What a reader of a fresh clone relies on: the README's links resolve inside the
project, and docs/API.md shows an example of every v1 endpoint."""

from __future__ import annotations

import re
from pathlib import Path

from llmcaller.urls import api_patterns

ROOT = Path(__file__).resolve().parents[2]
_LINK = re.compile(r"\]\(([^)#\s]+)")


def _relative_links(markdown: Path) -> list[str]:
    return [t for t in _LINK.findall(markdown.read_text()) if "://" not in t]


def test_every_relative_link_in_the_readme_and_docs_exists_in_a_clone():
    for page in (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))):
        for target in _relative_links(page):
            resolved = (page.parent / target).resolve()
            assert resolved.is_relative_to(ROOT), f"{page.name} links outside the project: {target}"
            assert resolved.exists(), f"{page.name} links to a missing {target}"


def test_the_api_doc_shows_a_request_for_every_v1_endpoint():
    text = (ROOT / "docs" / "API.md").read_text()
    for pattern in api_patterns:
        assert f"$BASE/{pattern.pattern}" in text, f"no example calls /{pattern.pattern}"


def test_the_readme_shows_an_embed_request():
    assert re.search(r"curl [^\n]*/mcp/embed", (ROOT / "README.md").read_text())
