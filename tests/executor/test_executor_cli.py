"""``glacier run REF``: summary table, options, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from glacier.cli import main

PIPELINE = """
import polars as pl
from glacier import Dataset, Pipeline
from glacier.storage import LocalFS

raw = Dataset("raw")
clean = Dataset("clean", storage=LocalFS("out"))
pipeline = Pipeline(name="cli_demo")

@pipeline.task()
def tidy(r: raw, factor: float = 1.0) -> clean:
    if factor < 0:
        raise ValueError("factor must be >= 0")
    return r.with_columns(pl.col("a") * factor)
"""


@pytest.fixture
def ref(workdir: Path) -> str:
    import polars as pl

    pl.DataFrame({"a": [1.0, 2.0]}).write_parquet("raw.parquet")
    (workdir / "cli_demo_pipeline.py").write_text(PIPELINE)
    return "cli_demo_pipeline.py"


def test_run_prints_a_summary_and_writes(ref, capsys):
    assert main(["run", ref, "--input", "raw=raw.parquet", "--param", "tidy.factor=3"]) == 0
    out = capsys.readouterr().out
    assert "tidy" in out and "succeeded" in out and "cli_demo" in out
    import polars as pl

    assert pl.read_parquet("out/clean.parquet")["a"].to_list() == [3.0, 6.0]
    assert main(["run", ref, "--input", "raw=raw.parquet", "--param", "tidy.factor=3"]) == 0
    assert "skipped" in capsys.readouterr().out


def test_failed_task_prints_summary_then_one_error_line(ref, capsys):
    code = main(["run", ref, "--input", "raw=raw.parquet", "--param", "tidy.factor=-1", "--force"])
    captured = capsys.readouterr()
    assert code == 1 and "failed" in captured.out
    assert (
        captured.err.strip().splitlines() == [captured.err.strip()]
        and "task 'tidy' failed: ValueError: factor must be >= 0" in captured.err
    )


def test_bad_input_option_and_missing_source(ref, capsys):
    assert main(["run", ref, "--input", "raw"]) == 1
    assert "--input 'raw': expected NAME=PATH" in capsys.readouterr().err
    assert main(["run", ref]) == 1
    assert "source dataset 'raw' has no data" in capsys.readouterr().err
