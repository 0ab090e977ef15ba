"""The dag_build benchmark's generator makes a valid pipeline of the size asked (no timing here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from glacier.loader import load_pipeline

ROOT = Path(__file__).resolve().parents[2]


def test_generated_pipeline_is_valid_with_fan_in(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "bench_dag_build", ROOT / "benchmarks" / "dag_build.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / "bench_generated_small.py"
    path.write_text(module.generate(120, n_sources=10))
    pipeline = load_pipeline(str(path)).validate()
    assert len(pipeline.tasks) == 120 and len(pipeline.datasets) == 130
    assert len(pipeline.sources) == 10
    assert max(len(t.inputs) for t in pipeline.tasks) == 3
    assert all([p.name for p in t.params] == ["factor"] for t in pipeline.tasks)
