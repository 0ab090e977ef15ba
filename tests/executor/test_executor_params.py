"""Task parameters are checked against their annotations before any task runs, and
``--param`` text is parsed per annotation: a wrong value is one error line, never a column."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl
import pytest

from glacier import Dataset, Pipeline
from glacier.cli import main
from glacier.errors import DefinitionError
from glacier.storage import LocalFS

PIPELINE = """
from typing import Literal, Optional

import polars as pl
from glacier import Dataset, Pipeline
from glacier.storage import LocalFS

orders = Dataset("orders")
spenders = Dataset("spenders", storage=LocalFS("out"))
pipeline = Pipeline(name="params_demo")

@pipeline.task()
def split(
    o: orders,
    min_spend: float = 10.0,
    k: int = 2,
    mode: Literal["top", "all"] = "top",
    regions: list[str] = ["n"],
    cap: Optional[int] = None,
    loud: bool = False,
    note: str = "",
    legacy=1,
) -> spenders:
    out = o.filter(pl.col("amount") >= min_spend, pl.col("region").is_in(regions))
    if mode == "top":
        out = out.sort("amount", descending=True).head(k)
    return out.with_columns(
        pl.lit(cap).alias("cap"), pl.lit(loud).alias("loud"), pl.lit(note).alias("note"),
        pl.lit(legacy).alias("legacy"),
    )
"""


@pytest.fixture
def ref(workdir: Path) -> str:
    pl.DataFrame({"amount": [5.0, 20.0, 30.0, 40.0], "region": ["n", "n", "s", "n"]}).write_parquet(
        "orders.parquet"
    )
    (workdir / "params_demo.py").write_text(PIPELINE)
    return "params_demo.py"


def _run(ref: str, *params: str) -> int:
    args = ["run", ref, "--input", "orders=orders.parquet", "--no-progress", "--force"]
    for p in params:
        args += ["--param", p]
    return main(args)


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("split.min_spend=abc", "expected a float (task 'split' declares min_spend: float)"),
        ("split.k=3.5", "expected an int (task 'split' declares k: int)"),
        ("split.k=three", "expected an int"),
        ("split.mode=bottom", "expected one of 'top', 'all' (task 'split' declares mode: "),
        ("split.regions=n,s", "expected a JSON list of str (task 'split' declares regions: "),
        ("split.cap=lots", "expected an int or null (task 'split' declares cap: int | None)"),
        ("split.loud=maybe", "expected true or false (task 'split' declares loud: bool)"),
    ],
)
def test_a_cli_value_that_does_not_parse_is_one_error_line(ref, capsys, flag, expected):  # type: ignore[no-untyped-def]
    assert _run(ref, flag) == 1
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err]
    assert err.startswith(f"error: --param {flag}: {expected}")
    assert not Path("out/spenders.parquet").exists()  # refused before any task ran


def test_cli_values_are_parsed_per_annotation(ref, capsys):  # type: ignore[no-untyped-def]
    code = _run(
        ref,
        "split.min_spend=20",
        "split.k=3",
        "split.mode=all",
        'split.regions=["n", "s"]',
        "split.cap=null",
        "split.loud=true",
        "split.note=42",
        "split.legacy=7",
    )
    assert code == 0, capsys.readouterr().err
    out = pl.read_parquet("out/spenders.parquet")
    assert out["amount"].to_list() == [20.0, 30.0, 40.0]  # mode=all: no head(k)
    assert out.schema["cap"] == pl.Null and out["loud"].to_list() == [True] * 3
    assert out["note"].to_list() == ["42"] * 3  # a str stays the text, not the number 42
    assert out["legacy"].to_list() == [7] * 3  # unannotated: JSON when it parses


def test_a_cli_int_becomes_a_number_not_a_column(ref, capsys):  # type: ignore[no-untyped-def]
    assert _run(ref, "split.k=1", "split.min_spend=0") == 0, capsys.readouterr().err
    assert pl.read_parquet("out/spenders.parquet")["amount"].to_list() == [40.0]


def _pipeline(out: Path) -> Pipeline:
    orders = Dataset("orders")
    top = Dataset("top", storage=LocalFS(str(out)))
    p = Pipeline(name="ranked")

    @p.task()
    def rank(
        o: orders, k: int = 2, min_total: float = 0.0, how: Literal["asc", "desc"] = "desc"
    ) -> top:
        return o.filter(pl.col("amount") >= min_total).sort("amount").head(k)

    return p


ORDERS = pl.DataFrame({"amount": [3.0, 1.0, 2.0]})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"rank.k": "3"},
            r"params\['rank.k'\]: expected an int \(task 'rank' declares k: int\), found '3' "
            r"\(a str\); pass an int such as 2$",
        ),
        ({"rank.k": True}, r"params\['rank.k'\]: expected an int .* found True \(a bool\)"),
        ({"rank.k": 2.0}, r"params\['rank.k'\]: expected an int .* found 2.0 \(a float\)"),
        ({"rank.min_total": "abc"}, r"expected a float \(task 'rank' declares min_total: float"),
        ({"rank.how": "up"}, r"expected one of 'asc', 'desc' .* found 'up' \(a str\)"),
    ],
)
def test_python_values_of_the_wrong_type_are_refused_before_any_task_runs(
    workdir: Path, params: dict[str, object], message: str
) -> None:
    with pytest.raises(DefinitionError, match=message):
        _pipeline(workdir / "out").run(inputs={"orders": ORDERS}, params=params)
    assert not (workdir / "out").exists()


def test_an_int_for_a_float_is_fine_from_python(workdir: Path) -> None:
    result = _pipeline(workdir / "out").run(
        inputs={"orders": ORDERS}, params={"rank.min_total": 2, "rank.k": 5}
    )
    assert result["top"].collect()["amount"].to_list() == [2.0, 3.0]


def test_the_cloud_runtime_checks_event_params_too(workdir: Path) -> None:
    from glacier.runtime import run_task

    ORDERS.write_parquet(workdir / "orders.parquet")
    locations = {"orders": str(workdir / "orders.parquet"), "top": str(workdir / "top.parquet")}
    spec = _pipeline(workdir / "out").spec()
    with pytest.raises(DefinitionError, match=r"params\['rank.k'\]: expected an int .* found '3'"):
        run_task(
            spec,
            "rank",
            locations,
            run_id="r1",
            pipeline=_pipeline(workdir / "out"),
            params={"k": "3"},
        )
    report = run_task(
        spec, "rank", locations, run_id="r2", pipeline=_pipeline(workdir / "out"), params={"k": 1}
    )
    assert report["rows"] == 1
