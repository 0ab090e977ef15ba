"""MkDocs hook: the command-line reference shows the ``--help`` of every ``glacier`` command,
taken from the parser itself when the site is built, so the page cannot drift from the CLI.

A page asks for it with the line ``<!-- glacier: cli-help -->``.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

MARKER = "<!-- glacier: cli-help -->"


def _parser() -> argparse.ArgumentParser:
    from glacier.cli import build_parser

    built: Any = build_parser()
    return built[0] if isinstance(built, tuple) else built


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def cli_help() -> str:
    """Markdown: ``glacier --help``, then one section per command with its help."""
    os.environ["COLUMNS"] = "96"  # argparse wraps to the terminal width: keep the page stable
    parser = _parser()
    blocks = ["## glacier", "", "```text", parser.format_help().rstrip(), "```", ""]
    for name, sub in _commands(parser).items():
        blocks += [f"## glacier {name}", "", "```text", sub.format_help().rstrip(), "```", ""]
    return "\n".join(blocks)


def on_page_markdown(markdown: str, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, cli_help())
