"""``python -m examples.demo`` (``make demo``): the quickstart pipeline, end to end.

1. generates sample orders and customers where a local run looks for the two sources
   (``.glacier/datasets/``, the default root), unless they are already there;
2. validates the pipeline, prints it and draws it (``build/demo/quickstart.svg``) when
   Graphviz is installed (without it, one line says how to get it and the demo goes on);
3. runs it locally with ``pipeline.run()``, so ``glacier run examples/quickstart.py`` afterwards
   picks up the same data and state (and skips what is unchanged);
4. compiles it to a Pulumi program for AWS in ``build/infra``.

A step whose machinery is not installed says ``not available`` and why; it is never faked.
"""

from __future__ import annotations

import random
import shutil
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from examples.quickstart import pipeline

BUILD = Path("build")
ROOT = Path(".glacier")  # LocalExecutor's default root
DATA = ROOT / "datasets"  # where a local run finds storage-backed sources
INFRA = BUILD / "infra"
COUNTRIES = ["DE", "FR", "JP", "NL", "US", None]


def generate_data(folder: Path, n_orders: int = 20_000, n_customers: int = 800) -> dict[str, str]:
    """Deterministic sample sources, with the dirt the cleaning tasks remove (kept if present)."""
    paths = {"orders": folder / "orders.parquet", "customers": folder / "customers.parquet"}
    if all(p.exists() for p in paths.values()):
        return {name: str(path) for name, path in paths.items()}
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    customers = pl.DataFrame(
        {
            "customer_id": [i % n_customers for i in range(n_customers + 40)],  # 40 duplicates
            "name": [f"customer {i % n_customers:04d}" for i in range(n_customers + 40)],
            "country": [rng.choice(COUNTRIES) for _ in range(n_customers + 40)],
        }
    )
    start = date(2025, 1, 1)
    orders = pl.DataFrame(
        {
            "order_id": list(range(n_orders)),
            "customer_id": [
                rng.randrange(n_customers) if rng.random() > 0.02 else None for _ in range(n_orders)
            ],
            "amount": [round(rng.uniform(-20, 500), 2) for _ in range(n_orders)],
            "ordered_at": [start + timedelta(days=rng.randrange(365)) for _ in range(n_orders)],
        },
        schema={
            "order_id": pl.Int64,
            "customer_id": pl.Int64,
            "amount": pl.Float64,
            "ordered_at": pl.Date,
        },
    )
    orders.write_parquet(paths["orders"])
    customers.write_parquet(paths["customers"])
    return {name: str(path) for name, path in paths.items()}


def _step(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def _not_available(step: str, exc: BaseException) -> None:
    print(f"{step}: not available: {type(exc).__name__}: {exc}")


def show_graph() -> None:
    _step("1. the pipeline")
    pipeline.validate()
    print(pipeline.visualize("text"), end="")
    image = BUILD / "demo" / "quickstart.svg"
    if shutil.which("dot") is None:  # Graphviz is optional: the demo goes on without a picture
        print(
            f"graph image: skipped ({image} needs Graphviz's `dot`: apt-get install graphviz, "
            "brew install graphviz, or conda install graphviz)"
        )
        return
    print(f"graph image: {pipeline.visualize(path=image)}")


def run_locally(inputs: dict[str, str]) -> None:
    _step("2. local run")
    try:
        from glacier import LocalExecutor
    except (ImportError, AttributeError) as exc:
        _not_available("run step", exc)
        return
    result: Any = pipeline.run(LocalExecutor(), root=str(ROOT))
    from rich.console import Console

    Console().print(result)
    print("revenue by country:")
    print(result["revenue_by_country"].collect())
    print("where the datasets went:")
    for ds in pipeline.datasets:
        where = result.path(ds.name) or "ephemeral: flowed in memory, not written"
        role = "source, read from " if ds.name in inputs else ""
        print(f"  {ds.name:<20} {role}{where}")
    print("run it again (unchanged tasks are skipped; --force reruns them):")
    print("  .venv/bin/glacier run examples/quickstart.py")


def compile_to_pulumi() -> None:
    _step("3. compile to Pulumi (AWS)")
    try:
        from glacier_aws import AWSCompiler
    except (ImportError, AttributeError) as exc:
        _not_available("compile step", exc)
        return
    infra = pipeline.compile(AWSCompiler(region="us-east-1"))
    written = infra.write(INFRA)
    print(infra.summary())
    print(f"Pulumi program written to {written}; deploy with: cd {INFRA}/aws && pulumi up")


def main() -> int:
    inputs = generate_data(DATA)
    print(f"sample data: {inputs['orders']}, {inputs['customers']}")
    show_graph()
    run_locally(inputs)
    compile_to_pulumi()
    return 0


if __name__ == "__main__":
    sys.exit(main())
