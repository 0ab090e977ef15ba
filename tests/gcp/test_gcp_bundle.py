"""The GCP function bundle is the core's: the project's modules, pinned imports, declared
requirements, and an import the bundle cannot satisfy refused at compile time."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

import pytest

from glacier.errors import CompilationError
from glacier.loader import load_pipeline
from glacier_gcp import GCPCompiler

pytestmark = pytest.mark.slow  # each compile checks the bundle in a fresh interpreter

HELPER = """\
import yaml


def threshold() -> int:
    return yaml.safe_load("limit: 3")["limit"]
"""

PIPELINE = """\
import polars as pl
from shop_helpers import threshold

from glacier import Dataset, Pipeline
from glacier.storage import ObjectStorage

orders = Dataset("orders", storage=ObjectStorage())
big = Dataset("big", storage=ObjectStorage())

pipeline = Pipeline(name="shop", requirements=["rich>=10"])


@pipeline.task()
def keep_big(rows: orders) -> big:
    return rows.filter(pl.col("amount") > threshold())
"""


def _project(tmp_path: Path, helper: str = HELPER) -> str:
    (tmp_path / "shop_helpers.py").write_text(helper)
    (tmp_path / "shop.py").write_text(PIPELINE)
    return str(tmp_path / "shop.py")


@pytest.fixture()
def importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("shop", "shop_helpers"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return tmp_path


def test_the_bundle_holds_the_project_modules_and_pinned_requirements(importable: Path) -> None:
    infra = load_pipeline(_project(importable)).compile(GCPCompiler("demo-project"))
    files = infra.stacks["gcp"].files
    assert files["app/shop_helpers.py"] == HELPER
    assert "app/shop.py" in files
    requirements = files["app/requirements.txt"].splitlines()
    assert f"PyYAML=={importlib.metadata.version('PyYAML')}" in requirements
    assert "rich>=10" in requirements
    assert f"polars=={importlib.metadata.version('polars')}" in requirements


def test_an_import_the_bundle_cannot_satisfy_is_refused_at_compile_time(
    importable: Path,
) -> None:
    helper = HELPER + "\n\ndef later() -> None:\n    import shop_missing_module  # noqa: F401\n"
    with pytest.raises(CompilationError, match="shop_missing_module"):
        load_pipeline(_project(importable, helper)).compile(GCPCompiler("demo-project"))
