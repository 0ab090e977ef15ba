"""Helpers the runtime tests import (a unique module name: every test folder has a conftest)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from glacier.compilation.layout import cloud_key
from glacier.ir import PipelineIR, TaskIR

PIPELINES = Path(__file__).resolve().parent.parent / "pipelines"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def s3_locations(spec: PipelineIR, buckets: Mapping[str, str]) -> dict[str, str]:
    """Dataset -> ``s3://<bucket>/<key>`` (``{run_id}`` in ephemeral keys), as a compiled stack
    renders them into ``GLACIER_LOCATIONS`` from its buckets and the core's key layout."""
    return {ds.name: f"s3://{buckets[ds.name]}/{cloud_key(ds)}" for ds in spec.datasets}


def task_locations(task: TaskIR, locations: Mapping[str, str]) -> dict[str, str]:
    """The locations one task's ``GLACIER_LOCATIONS`` holds: its inputs' and outputs'."""
    return {n: locations[n] for n in sorted({*task.input_datasets, *task.outputs})}


def load_module(name: str) -> ModuleType:
    """Import ``tests/pipelines/<name>.py`` under its own name (as a bundle would import it)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, PIPELINES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
