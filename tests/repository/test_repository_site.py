"""The documentation site (mkdocs.yml over docs/): every page reachable, the command-line
reference complete, the README pointing at it. ``make docs`` builds it with ``--strict``."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import yaml

from glacier.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CONFIG = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))


def _nav_pages(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [page for item in node for page in _nav_pages(item)]
    if isinstance(node, dict):
        return [page for value in node.values() for page in _nav_pages(value)]
    return []


def test_every_page_is_in_the_navigation_and_every_entry_exists() -> None:
    nav = _nav_pages(CONFIG["nav"])
    missing = [page for page in nav if not (DOCS / page).is_file()]
    assert not missing, f"mkdocs.yml's nav names pages that do not exist: {missing}"
    pages = {
        p.relative_to(DOCS).as_posix()
        for p in DOCS.rglob("*.md")
        if p.relative_to(DOCS).parts[0] != "decisions"
    }
    left_out = sorted(pages - set(nav))
    assert not left_out, f"pages no one can reach from the navigation: {left_out}"
    assert "decisions/README.md" in nav  # the records are reached from their index
    assert CONFIG["strict"] is True


def test_the_site_has_a_guide_per_feature_and_a_page_per_provider() -> None:
    nav = set(_nav_pages(CONFIG["nav"]))
    for page in ("getting-started.md", "concepts.md", "reference/cli.md", "reference/api.md"):
        assert page in nav, page
    for provider in ("aws", "gcp", "azure"):
        assert f"providers/{provider}.md" in nav, provider
    guides = {p for p in nav if p.startswith("guides/")}
    assert len(guides) >= 6, guides


def test_the_cli_reference_shows_every_command() -> None:
    spec = importlib.util.spec_from_file_location("cli_help", DOCS / "hooks" / "cli_help.py")
    assert spec and spec.loader
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    page = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    assert hook.MARKER in page
    rendered = hook.on_page_markdown(page)
    assert hook.MARKER not in rendered
    for name, _ in COMMANDS:
        assert f"## glacier {name}\n" in rendered, name
        assert re.search(rf"usage: glacier {name} ", rendered), name


def test_the_readme_links_the_site() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/index.md)" in readme and "make docs" in readme
