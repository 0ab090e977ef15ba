"""Fixtures for the core tests: the sample pipeline modules under tests/pipelines/."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from glacier.loader import load_pipeline

PIPELINES_DIR = Path(__file__).resolve().parent.parent / "pipelines"


@pytest.fixture(scope="session")
def pipelines_dir() -> Path:
    return PIPELINES_DIR


@pytest.fixture(scope="session", params=["core_future", "core_plain"])
def sample_module(request: pytest.FixtureRequest) -> ModuleType:
    """The annotation-forms module, with and without ``from __future__ import annotations``."""
    import sys

    pipeline = load_pipeline(str(PIPELINES_DIR / f"{request.param}.py"))
    return sys.modules[pipeline.tasks[0].fn.__module__]
