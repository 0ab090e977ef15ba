"""Run ids and location templates: filling in the key layout at run time.

A compiled pipeline knows where each dataset lives before any run exists; ephemeral datasets
live under a per-run folder, written ``{run_id}`` in the template
(:mod:`glacier.compilation.layout`) and filled in here.
The run id comes from outside (an event, an environment variable), so it is checked before it
becomes part of an object key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from glacier.compilation.layout import RUN_ID_PLACEHOLDER

_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")

#: How much of a refused run id an error message quotes: it comes from outside, any size.
_SHOWN = 60


class InvalidRunIdError(ValueError):
    """A run id that must not become part of an object key (its class name is what Step
    Functions sees, so a refused run id is told apart from a task's own ValueError)."""


def shown_run_id(run_id: object) -> str:
    """A refused run id for messages and logs: its repr, cut to a bounded length."""
    text = repr(run_id)
    if len(text) <= _SHOWN:
        return text
    size = f", {len(run_id)} characters" if isinstance(run_id, str) else ""
    return f"{text[:_SHOWN]}... ({type(run_id).__name__}{size})"


def check_run_id(run_id: object) -> str:
    """A run id safe to put in an object key: 1-128 of ASCII ``[A-Za-z0-9_.:-]``, no ``..``.

    Raises :class:`InvalidRunIdError` (a ValueError) quoting at most the start of the value.
    """
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id) or ".." in run_id:
        msg = (
            f"run id {shown_run_id(run_id)} is invalid: expected 1-128 characters of ASCII "
            "letters, digits, '_', '.', ':' or '-', starting with a letter or digit and without "
            "'..' (it becomes part of object keys); start the run with such a name, or without "
            "one (an orchestrator's execution name of ASCII letters, digits, '-' and '_' qualifies)"
        )
        raise InvalidRunIdError(msg)
    return run_id


def resolve_location(template: str, run_id: str) -> str:
    """A location template with ``{run_id}`` replaced by a checked run id."""
    return template.replace(RUN_ID_PLACEHOLDER, check_run_id(run_id))


def resolve_locations(templates: Mapping[str, str], run_id: str) -> dict[str, str]:
    """Every template of a ``{dataset: template}`` mapping resolved for one run."""
    return {name: resolve_location(t, run_id) for name, t in templates.items()}


__all__ = [
    "RUN_ID_PLACEHOLDER",
    "InvalidRunIdError",
    "check_run_id",
    "resolve_location",
    "resolve_locations",
    "shown_run_id",
]
