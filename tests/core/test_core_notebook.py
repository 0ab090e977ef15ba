"""Notebook views: ``Pipeline``, ``RunResult`` and ``Infrastructure`` display themselves
(``_repr_mimebundle_`` / ``_repr_html_``), and ``result.show(name)`` gives a dataset's head."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from glacier import Dataset, Pipeline, task
from glacier.errors import InputError, TaskFailedError
from glacier.storage import ObjectStorage
from glacier_aws import AWSCompiler

ORDERS = pl.DataFrame({"id": [1, 2, 3, 4, 5, 6, 7], "amount": [5.0, -1.0, 7.5, 2.0, 9.0, 1.0, 3.0]})


def _pipeline() -> Pipeline:
    orders = Dataset("orders", storage=ObjectStorage())
    valid = Dataset("valid")  # ephemeral
    report = Dataset("report", storage=ObjectStorage(), description="<b>bold</b> & co")
    pipeline = Pipeline(name="notebook")

    @pipeline.task()
    def keep_positive(data: orders) -> valid:
        return data.filter(pl.col("amount") > 0)

    @pipeline.task()
    def total(data: valid) -> report:
        return data.select(pl.col("amount").sum())

    return pipeline


#: module level, as a compiled pipeline must be (the cloud runtime imports it by name)
pipeline = _pipeline()


@pytest.fixture
def result(tmp_path: Path) -> object:
    source = tmp_path / "orders.parquet"
    ORDERS.write_parquet(source)
    return pipeline.run(inputs={"orders": str(source)}, root=str(tmp_path / "root"))


def test_pipeline_shows_its_dag_as_inline_svg() -> None:
    bundle = pipeline._repr_mimebundle_()
    page = bundle["text/html"]
    assert page.count("<svg") == 1 and "<?xml" not in page and "<!DOCTYPE" not in page
    assert "keep_positive" in page and "&lt;b&gt;bold&lt;/b&gt;" in page  # escaped tooltip
    assert "<b>bold</b>" not in page
    assert bundle["text/plain"].startswith("pipeline notebook: 2 tasks")
    assert pipeline._repr_html_() == page


def test_pipeline_without_graphviz_falls_back_to_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` there
    bundle = pipeline._repr_mimebundle_()
    assert "<svg" not in bundle["text/html"]
    assert "<pre>pipeline notebook: 2 tasks" in bundle["text/html"]
    assert "Install Graphviz (apt-get install graphviz" in bundle["text/html"]
    assert bundle["text/plain"].startswith("pipeline notebook: 2 tasks")


def test_an_invalid_pipeline_displays_its_error_instead_of_raising() -> None:
    ping, pong = Dataset("ping"), Dataset("pong")

    @task()
    def there(data: ping) -> pong:
        return data

    @task()
    def back(data: pong) -> ping:
        return data

    bundle = Pipeline([there, back], name="broken")._repr_mimebundle_()
    assert "pipeline 'broken' does not validate" in bundle["text/plain"]
    assert "<pre>" in bundle["text/html"] and "back -&gt; there" in bundle["text/html"]


def test_run_result_shows_its_task_table_and_dataset_previews(result: object) -> None:
    text = repr(result)
    assert text.startswith("<RunResult 'notebook': 2 tasks (2 succeeded)") and len(text) < 120
    page = result._repr_mimebundle_()["text/html"]  # type: ignore[attr-defined]
    assert "<table>" in page and "keep_positive" in page and "succeeded" in page
    assert page.count("<details open>") == 2  # the source and the stored report
    assert "<code>report</code>" in page and "<code>orders</code>" in page
    assert "27.5" in page  # the report's value, read from its file
    assert "ephemeral, not stored: valid" in page
    plain = result._repr_mimebundle_()["text/plain"]  # type: ignore[attr-defined]
    assert "keep_positive" in plain and "succeeded" in plain and "frames" not in plain


def test_show_gives_the_head_of_a_dataset(result: object) -> None:
    head = result.show("orders", 3)  # type: ignore[attr-defined]
    assert head.equals(ORDERS.head(3))
    assert result.show("report").item() == 27.5  # type: ignore[attr-defined]
    with pytest.raises(InputError, match=r"result.show\('orders', n=-1\): n must be"):
        result.show("orders", -1)  # type: ignore[attr-defined]
    with pytest.raises(KeyError, match="no data for dataset 'nope'"):
        result.show("nope")  # type: ignore[attr-defined]


def test_a_failed_task_shows_its_error_escaped(tmp_path: Path) -> None:
    orders = Dataset("orders", storage=ObjectStorage())
    out = Dataset("out", storage=ObjectStorage())

    @task()
    def explode(data: orders) -> out:
        raise ValueError("<script>alert(1)</script>")

    with pytest.raises(TaskFailedError) as failed:
        Pipeline([explode], name="fails").run(inputs={"orders": ORDERS}, root=str(tmp_path))
    page = failed.value.result._repr_html_()  # type: ignore[attr-defined]
    assert "failed: explode" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in page


def test_infrastructure_shows_a_summary() -> None:
    infra = pipeline.compile(AWSCompiler(region="us-east-1"))
    text = repr(infra)
    assert text.startswith("<Infrastructure 'notebook': aws (") and "/month>" in text
    assert len(text) < 200  # not every generated file
    bundle = infra._repr_mimebundle_()
    assert bundle["text/plain"] == infra.summary()
    page = bundle["text/html"]
    assert "<td>aws</td>" in page and "s3_bucket" in page and "a month" in page
    assert "<td>keep_positive</td>" in page and "<td>report</td>" in page
