"""What runs inside a cloud function: one task of a compiled pipeline, provider-neutral.

``run_task`` is the whole job; provider adapters (a provider's ``runtime`` entry point) only translate
their event and environment into its arguments and its report into their response. No cloud
SDK is imported here: data moves through Polars' cloud IO (``glacier.io``,
``glacier.writes``).
"""

from __future__ import annotations

from glacier.runtime.locations import (
    RUN_ID_PLACEHOLDER,
    InvalidRunIdError,
    check_run_id,
    resolve_location,
    resolve_locations,
    shown_run_id,
)
from glacier.runtime.runner import (
    load_bundle_pipeline,
    load_task,
    read_inputs,
    run_task,
    write_outputs,
)

__all__ = [
    "RUN_ID_PLACEHOLDER",
    "InvalidRunIdError",
    "check_run_id",
    "load_bundle_pipeline",
    "load_task",
    "read_inputs",
    "resolve_location",
    "resolve_locations",
    "run_task",
    "shown_run_id",
    "write_outputs",
]
