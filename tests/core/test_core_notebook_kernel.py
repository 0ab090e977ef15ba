"""A real notebook, executed by a Jupyter kernel (nbclient + ipykernel): the pipeline draws
itself as SVG, a run shows its tasks and data, a compiled stack its summary."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]


def _notebook(work: Path) -> nbformat.NotebookNode:
    setup = (
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from pathlib import Path\n"
        "from examples.demo import generate_data\n"
        "from examples.quickstart import pipeline\n"
        "pipeline"
    )
    run = (
        f"work = Path({str(work)!r})\n"
        "inputs = generate_data(work / 'data', n_orders=500, n_customers=50)\n"
        "result = pipeline.run(inputs=inputs, root=str(work / '.glacier'))\n"
        "result"
    )
    compile_ = (
        "from glacier_aws import AWSCompiler\npipeline.compile(AWSCompiler(region='us-east-1'))"
    )
    cells = [setup, run, "result.show('revenue_by_country', 3)", compile_]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])


def _html(cell: nbformat.NotebookNode) -> str:
    # the value of the cell's last expression (a run on a terminal-like front end also shows
    # its progress table as display_data before it)
    shown = [o for o in cell.outputs if o.output_type == "execute_result"]
    assert len(shown) == 1, json.dumps(cell.outputs)[:2000]
    return str(shown[0]["data"]["text/html"])


@pytest.mark.slow
def test_a_notebook_displays_pipeline_run_and_infrastructure(tmp_path: Path) -> None:
    notebook = _notebook(tmp_path)
    NotebookClient(
        notebook, timeout=240, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    nbformat.validate(notebook)
    graph, run, head, infra = (_html(cell) for cell in notebook.cells)
    assert graph.count("<svg") == 1 and "clean_orders" in graph and "<?xml" not in graph
    assert "<table>" in run and "revenue_per_country" in run and "succeeded" in run
    assert "<code>top_customers</code>" in run and 'class="dataframe"' in run
    assert 'class="dataframe"' in head and "shape: (3, 3)" in head
    assert "<td>aws</td>" in infra and "a month" in infra and "lambda_function" in infra
    plain = next(o for o in notebook.cells[1].outputs if o.output_type == "execute_result")
    plain = plain["data"]["text/plain"]
    assert "rank_customers" in plain and "frames=" not in plain
