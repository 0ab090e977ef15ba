"""Benchmark: ``pipeline.run()`` against a hand-written fused Polars query and an eager script.

The same logic three ways, on generated data (6 million orders + 200,000 customers by
default): a 7-task Glacier pipeline (two cleaning tasks, a join fan-in, four aggregations
written as parquet), one hand-written ``pl.collect_all`` query with four sinks, and an eager
step-by-step script. Each run is a fresh subprocess, so import time counts, and its wall
time and peak RSS come from ``os.wait4`` (that child only).

It also times a rerun where every task is skipped (``pipeline.run()`` without ``force``
after a full run: sources and code fingerprinted, every task found unchanged) against starting
the interpreter (``python -c pass``).

Fairness: one untimed warm-up round runs every contender first (page cache for the data,
compiled bytecode for every module, as any second run of a script has; the workers may write
``__pycache__`` even when ``PYTHONDONTWRITEBYTECODE`` is set in the caller's environment,
which would otherwise make only Glacier's pure-Python modules recompile on every run). Then
the contenders run interleaved, in a rotated order each round, and medians are reported.

    python -m benchmarks.local_run [--rows 6000000] [--repeat 9]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl

MODES = ("glacier", "fused", "eager")


# -- the logic, shared by all three ------------------------------------------------------------


def clean_orders(orders: pl.LazyFrame) -> pl.LazyFrame:
    return orders.filter((pl.col("status") != "refunded") & (pl.col("amount") > 0)).with_columns(
        net=pl.col("amount") * pl.col("quantity") * (1 - pl.col("discount"))
    )


def active_customers(customers: pl.LazyFrame) -> pl.LazyFrame:
    return customers.filter(pl.col("active")).select("customer_id", "region", "segment")


def enrich(orders: pl.LazyFrame, customers: pl.LazyFrame) -> pl.LazyFrame:
    return orders.join(customers, on="customer_id", how="inner")


def revenue_by_region(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.group_by("region").agg(pl.col("net").sum(), pl.len().alias("orders")).sort("region")


def daily_revenue(df: pl.LazyFrame) -> pl.LazyFrame:
    return (
        df.group_by("order_date")
        .agg(pl.col("net").sum(), pl.col("quantity").sum())
        .sort("order_date")
    )


def segment_stats(df: pl.LazyFrame) -> pl.LazyFrame:
    return (
        df.group_by("segment", "status")
        .agg(pl.col("net").mean().alias("avg_net"), pl.col("net").max().alias("max_net"))
        .sort("segment", "status")
    )


def top_customers(df: pl.LazyFrame) -> pl.LazyFrame:
    return (
        df.group_by("customer_id").agg(pl.col("net").sum()).sort("net", descending=True).head(1000)
    )


AGGREGATIONS = {
    "revenue_by_region": revenue_by_region,
    "daily_revenue": daily_revenue,
    "segment_stats": segment_stats,
    "top_customers": top_customers,
}


# -- the three contenders ----------------------------------------------------------------------


def build_pipeline() -> Any:
    """The 7-task pipeline; outputs stored with LocalFS under the output folder."""
    from glacier import Dataset, Pipeline, task
    from glacier.storage import LocalFS, ObjectStorage

    out = LocalFS(os.environ["BENCH_OUT"])
    orders, customers = Dataset("orders", ObjectStorage()), Dataset("customers", ObjectStorage())
    clean, active, enriched = Dataset("clean"), Dataset("active"), Dataset("enriched")
    region, daily = Dataset("revenue_by_region", out), Dataset("daily_revenue", out)
    segment, top = Dataset("segment_stats", out), Dataset("top_customers", out)

    @task(name="clean_orders")
    def t_clean(o: orders) -> clean:
        return clean_orders(o)

    @task(name="active_customers")
    def t_active(c: customers) -> active:
        return active_customers(c)

    @task(name="enrich")
    def t_enrich(o: clean, c: active) -> enriched:
        return enrich(o, c)

    @task(name="revenue_by_region")
    def t_region(df: enriched) -> region:
        return revenue_by_region(df)

    @task(name="daily_revenue")
    def t_daily(df: enriched) -> daily:
        return daily_revenue(df)

    @task(name="segment_stats")
    def t_segment(df: enriched) -> segment:
        return segment_stats(df)

    @task(name="top_customers")
    def t_top(df: enriched) -> top:
        return top_customers(df)

    tasks = [t_clean, t_active, t_enrich, t_region, t_daily, t_segment, t_top]
    return Pipeline(tasks, name="bench")


def run_glacier(data: Path, out: Path, force: bool = True) -> None:
    os.environ["BENCH_OUT"] = str(out)
    pipeline = build_pipeline()
    inputs = {n: str(data / f"{n}.parquet") for n in ("orders", "customers")}
    result = pipeline.run(inputs=inputs, root=str(out / ".glacier"), force=force)
    if force:
        assert result.ok and result.queries == 1, result
    else:
        assert {t.status for t in result.tasks.values()} == {"skipped"}, result


def run_skipped(data: Path, out: Path) -> None:
    """A rerun over a full run's outputs: every task is skipped."""
    run_glacier(data, out, force=False)


def run_fused(data: Path, out: Path) -> None:
    enriched = enrich(
        clean_orders(pl.scan_parquet(data / "orders.parquet")),
        active_customers(pl.scan_parquet(data / "customers.parquet")),
    )
    sinks = [
        fn(enriched).sink_parquet(out / f"{name}.parquet", lazy=True)
        for name, fn in AGGREGATIONS.items()
    ]
    pl.collect_all(sinks)


def run_eager(data: Path, out: Path) -> None:
    orders = pl.read_parquet(data / "orders.parquet")
    customers = pl.read_parquet(data / "customers.parquet")
    clean = clean_orders(orders.lazy()).collect()
    active = active_customers(customers.lazy()).collect()
    enriched = enrich(clean.lazy(), active.lazy()).collect()
    for name, fn in AGGREGATIONS.items():
        fn(enriched.lazy()).collect().write_parquet(out / f"{name}.parquet")


# -- data and measurement ----------------------------------------------------------------------


def generate(data: Path, rows: int, customers: int = 200_000, seed: int = 7) -> None:
    """Orders and customers as parquet, pseudo-random from row hashes (deterministic)."""
    data.mkdir(parents=True, exist_ok=True)

    def rand(n: int, salt: int) -> pl.Expr:  # uniform integers in [0, n)
        return (pl.int_range(pl.len(), dtype=pl.UInt64).hash(seed * 1000 + salt) % n).cast(pl.Int64)

    def pick(values: list[Any], salt: int) -> pl.Expr:
        return pl.lit(pl.Series(values)).gather(rand(len(values), salt))

    orders = pl.select(pl.int_range(rows, dtype=pl.Int64).alias("order_id")).with_columns(
        customer_id=rand(customers, 1),
        amount=(rand(100_000, 2) / 100 + rand(10_000, 3) / 100).round(2),
        quantity=rand(9, 4) + 1,
        discount=pick([0.0, 0.05, 0.1, 0.2], 5),
        status=pick(["paid", "shipped", "pending", "refunded"], 6),
        order_date=pl.lit(date(2023, 1, 1)) + pl.duration(days=rand(730, 7)),
    )
    orders.write_parquet(data / "orders.parquet")
    pl.select(pl.int_range(customers, dtype=pl.Int64).alias("customer_id")).with_columns(
        region=pick([f"region_{i}" for i in range(12)], 8),
        segment=pick(["consumer", "smb", "enterprise", "public"], 9),
        active=rand(10, 10) < 8,
    ).write_parquet(data / "customers.parquet")


class Measure(NamedTuple):
    wall: float  # seconds
    cpu: float  # user + system seconds of the process (steadier than wall on a busy host)
    peak: float  # peak RSS, MiB


#: Reference processes: starting the interpreter, and that plus importing Polars.
_BASELINES = {"pass": "pass", "polars": "import polars"}


def measure(mode: str, data: Path, out: Path, fresh: bool = True) -> Measure:
    """One fresh subprocess running ``mode`` (in an emptied output folder when ``fresh``; the
    modes in ``_BASELINES`` only run ``python -c``)."""
    if fresh:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
    cmd = [sys.executable, "-m", "benchmarks.local_run", "--worker", mode, str(data), str(out)]
    if mode in _BASELINES:
        cmd = [sys.executable, "-c", _BASELINES[mode]]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=Path(__file__).resolve().parents[1], env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark worker {mode!r} failed with exit code {proc.returncode}")
    cpu = usage.ru_utime + usage.ru_stime
    return Measure(wall, cpu, usage.ru_maxrss / 1024)  # ru_maxrss is KiB on Linux


def check_same(outs: dict[str, Path]) -> None:
    """All three must write identical results, or the comparison means nothing."""
    from polars.testing import assert_frame_equal

    for name in AGGREGATIONS:
        frames = [pl.read_parquet(outs[m] / f"{name}.parquet") for m in MODES]
        for mode, frame in zip(MODES[1:], frames[1:], strict=True):
            try:  # float sums differ in the last bits with summation order
                assert_frame_equal(frame, frames[0], check_exact=False, rel_tol=1e-9)
            except AssertionError as exc:
                raise SystemExit(f"{name}: {mode} output differs from glacier's: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=6_000_000)
    parser.add_argument("--repeat", type=int, default=9)  # a steady median on a busy host
    parser.add_argument("--data", type=Path, default=None, help="reuse/generate data here")
    parser.add_argument(
        "--worker", nargs=3, metavar=("MODE", "DATA", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.worker:
        mode, data, out = args.worker
        workers = {"glacier": run_glacier, "fused": run_fused, "eager": run_eager}
        (workers | {"skipped": run_skipped})[mode](Path(data), Path(out))
        return 0
    with tempfile.TemporaryDirectory(prefix="glacier-bench-") as tmp:
        data = args.data or Path(tmp) / "data"
        if not (data / "orders.parquet").exists():
            print(f"generating {args.rows:,} orders in {data} ...", flush=True)
            generate(data, args.rows)
        report(data, Path(tmp), args.repeat)
    return 0


def import_cost(repeat: int) -> float:
    """Median seconds a fresh process spends importing glacier after polars (the fixed part of
    pipeline.run()'s time over the fused query)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    probe = (
        "import time, polars; t = time.perf_counter(); import {module}; "
        "print(time.perf_counter() - t)"
    )

    def once(module: str) -> float:
        code = probe.format(module=module)
        out = subprocess.check_output([sys.executable, "-c", code], text=True, env=env)
        return float(out)

    return statistics.median(once("glacier") for _ in range(repeat))


def medians(runs: list[Measure]) -> Measure:
    return Measure(*(statistics.median(column) for column in zip(*runs, strict=True)))


def report(data: Path, tmp: Path, repeat: int) -> None:
    runs: dict[str, list[Measure]] = {m: [] for m in MODES}
    outs = {m: tmp / f"out-{m}" for m in MODES}
    for mode in MODES:  # warm-up, not timed: page cache and bytecode for every contender
        measure(mode, data, outs[mode])
    for round_ in range(repeat):
        shift = round_ % len(MODES)  # interleaved and rotated: drift hits every contender alike
        for mode in MODES[shift:] + MODES[:shift]:
            runs[mode].append(measure(mode, data, outs[mode]))
    check_same(outs)
    med = {m: medians(v) for m, v in runs.items()}
    wall = {m: r.wall for m, r in med.items()}
    print(
        f"{'contender':<22}{'wall s':>9}{'cpu s':>8}{'peak MiB':>11}{'time/fused':>12}"
        f"{'cpu/fused':>11}{'mem/fused':>11}"
    )
    labels = {
        "glacier": "pipeline.run()",
        "fused": "fused Polars query",
        "eager": "eager Polars script",
    }
    fused = med["fused"]
    for m in MODES:
        r = med[m]
        print(
            f"{labels[m]:<22}{r.wall:>9.2f}{r.cpu:>8.2f}{r.peak:>11.0f}"
            f"{r.wall / fused.wall:>11.2f}x{r.cpu / fused.cpu:>10.2f}x{r.peak / fused.peak:>10.2f}x"
        )
    print(f"pipeline.run() vs eager: {wall['glacier'] / wall['eager']:.2f}x the eager wall time")
    extra = import_cost(repeat)
    print(
        f"of pipeline.run()'s {1000 * (wall['glacier'] - wall['fused']):.0f} ms over the fused "
        f"query, importing glacier after polars takes {1000 * extra:.0f} ms"
    )
    print(
        f"(median of {repeat} interleaved runs each after a warm-up round, fresh process per "
        "run, output equality checked)"
    )
    rerun = skipped_rerun(data, tmp / "out-skipped", repeat)
    skipped, start, polars = rerun["skipped"], rerun["pass"], rerun["polars"]
    print(
        f"a rerun where every task is skipped: {skipped.wall:.3f} s wall, {skipped.cpu:.3f} s "
        f"cpu; over starting the interpreter (python -c pass) {skipped.wall - start.wall:.3f} s "
        f"wall, {skipped.cpu - start.cpu:.3f} s cpu, of which importing polars alone takes "
        f"{polars.wall - start.wall:.3f} s wall, {polars.cpu - start.cpu:.3f} s cpu "
        f"(medians of {repeat})"
    )


def skipped_rerun(data: Path, out: Path, repeat: int) -> dict[str, Measure]:
    """Medians of a rerun that skips every task, of ``python -c pass`` and of importing
    Polars, interleaved."""
    measure("glacier", data, out)  # the full run whose outputs the reruns find unchanged
    measure("skipped", data, out, fresh=False)  # warm-up
    runs: dict[str, list[Measure]] = {"skipped": [], "pass": [], "polars": []}
    for _ in range(repeat):
        for mode in runs:
            runs[mode].append(measure(mode, data, out, fresh=False))
    return {m: medians(v) for m, v in runs.items()}


if __name__ == "__main__":
    raise SystemExit(main())
