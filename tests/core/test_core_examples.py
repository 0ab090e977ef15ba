"""The quickstart example and ``python -m examples.demo`` (what ``make demo`` runs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from glacier.loader import load_pipeline

ROOT = Path(__file__).resolve().parents[2]
# Loading by path imports it as `examples.quickstart`, with the project root on sys.path.
pipeline = load_pipeline(str(ROOT / "examples" / "quickstart.py"))
clean_orders = pipeline.dag.tasks["clean_orders"]


def test_quickstart_shape() -> None:
    assert pipeline.source == "examples/quickstart.py:pipeline" or pipeline.source.endswith(
        "/examples/quickstart.py:pipeline"
    )
    assert clean_orders.fn.__module__ == "examples.quickstart"
    assert [t.name for t in pipeline.tasks] == [
        "clean_customers",
        "clean_orders",
        "enrich",
        "rank_customers",
        "revenue_per_country",
    ]
    assert [d.name for d in pipeline.sources] == ["customers", "orders"]
    assert [d.name for d in pipeline.sinks] == ["revenue_by_country", "top_customers"]
    assert [d.name for d in pipeline.datasets if d.ephemeral] == ["known_customers", "valid_orders"]
    assert [t.name for t in pipeline.upstream("enrich", direct=True)] == [
        "clean_customers",
        "clean_orders",
    ]


def test_quickstart_task_is_a_plain_function() -> None:
    rows = pl.LazyFrame(
        {"order_id": [1, 2, 3], "customer_id": [1, None, 2], "amount": [5.0, 9.0, -1.0]}
    )
    assert clean_orders(rows).collect()["order_id"].to_list() == [1]


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "examples.demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert (
        "graph image: build/demo/quickstart.svg" in out
        and (tmp_path / "build/demo/quickstart.svg").is_file()
    )
    # Run and compile are real steps: their output, not a "not available" notice.
    assert "not available" not in out, out
    assert (
        "revenue by country:" in out
        and "valid_orders         ephemeral: flowed in memory, not written" in out
    )
    assert "revenue_by_country   .glacier/datasets/" in out
    assert (tmp_path / ".glacier/datasets/orders.parquet").is_file() and (
        tmp_path / "build/infra/aws/__main__.py"
    ).is_file()
    assert "Pulumi program written to build/infra" in out


@pytest.mark.slow
def test_glacier_run_after_the_demo_reuses_its_data_and_skips(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    demo = [sys.executable, "-m", "examples.demo"]
    subprocess.run(demo, cwd=tmp_path, env=env, capture_output=True, check=True, timeout=300)
    cli = [sys.executable, "-m", "glacier", "run", str(ROOT / "examples" / "quickstart.py")]
    done = subprocess.run(
        [*cli, "--no-progress"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("skipped") == 5, done.stdout
    again = subprocess.run(demo, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr  # `make demo` twice: every task skipped, no error
    table_rows = [line for line in again.stdout.splitlines() if line.startswith("│")]
    assert sum("skipped" in line for line in table_rows) == 5, again.stdout
    assert "Pulumi program written to" in again.stdout
