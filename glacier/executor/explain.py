"""Why a task runs or is skipped: what changed in its fingerprint, and the ``--explain`` table.

The state file keeps each task's fingerprint parts by component and name (code of each
function reached, each global and closure value read, params, inputs, versions), so a changed
fingerprint is explained by the parts that differ: "code of helpers.transform changed",
"param top_n changed", "source orders changed", "polars version changed (2.0.0 -> 2.1.0)".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Fingerprint components in the order they are reported, with how to name one of their parts.
_LABELS = (
    ("versions", "{} version"),
    ("code", "code of {}"),
    ("values", "{}"),
    ("libraries", "{} version"),
    ("params", "param {}"),
    ("env", "environment variable {}"),
    ("sources", "source {}"),
    ("inputs", "input {}"),
    ("depends_on", "task {} (depends_on)"),
    ("outputs", "definition of dataset {}"),
)
#: Components whose parts are versions, shown as "old -> new".
_SHOWN = ("versions", "libraries")
_MAX_REASONS = 3


def changes(before: object, after: Mapping[str, Any]) -> str:
    """What differs between a recorded fingerprint's parts and the current ones, in words."""
    if not isinstance(before, dict):
        return "its fingerprint changed (recorded without its parts)"
    found: list[str] = []
    for component, label in _LABELS:
        old, new = before.get(component) or {}, after.get(component) or {}
        if not isinstance(old, dict):
            old = {}
        for key in new:
            what = label.format(key)
            if key not in old:
                found.append(f"{what} is new")
            elif old[key] != new[key]:
                shown = f" ({old[key]} -> {new[key]})" if component in _SHOWN else ""
                found.append(f"{what} changed{shown}")
        found += [f"{label.format(key)} is gone" for key in old if key not in new]
    if not found:
        return "its fingerprint changed"
    more = len(found) - _MAX_REASONS
    return "; ".join(found[:_MAX_REASONS]) + (f" (and {more} more)" if more > 0 else "")


def print_plan(pipeline: str, decisions: Sequence[tuple[str, bool, str]]) -> None:
    """Print a table of each task's decision (run or skip) and its reason, in run order."""
    from rich.console import Console
    from rich.text import Text

    from glacier.executor.report import new_table  # the run table's style

    runs = sum(1 for _, run, _ in decisions if run)
    title = f"pipeline {pipeline}: {runs} to run, {len(decisions) - runs} to skip"
    table = new_table(title, ("task", "decision", "reason"))
    for name, run, reason in decisions:
        decision = "[green]run[/]" if run else "[cyan]skip[/]"
        table.add_row(Text(name), decision, Text(reason))  # Text: names are not markup
    Console().print(table)
