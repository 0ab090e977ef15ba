"""Benchmark: import glacier and validate the quickstart pipeline, over ``import polars``.

What every ``glacier run``/``validate``/``graph`` pays before any data moves: importing Glacier,
declaring the quickstart's datasets, resources and tasks, and validating the DAG. Each sample
is a fresh process that imports Polars first (untimed), then times the rest; the median is
compared with the 80 ms budget. The median CPU time is printed too: on a shared machine wall
time also counts the time other processes held the CPU.

    python -m benchmarks.import_quickstart [--runs 21]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

BUDGET_MS = 80
_PROBE = (
    "import time, polars; t = time.perf_counter(); c = time.process_time(); import glacier; "
    "import examples.quickstart as q; q.pipeline.validate(); "
    "print(time.perf_counter() - t, time.process_time() - c)"
)


def measure() -> tuple[float, float]:
    """Seconds one fresh process spends importing glacier and validating the quickstart: wall
    and CPU."""
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    out = subprocess.check_output([sys.executable, "-c", _PROBE], text=True, env=env, cwd=root)
    wall, cpu = map(float, out.split())
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args(argv)
    measure()  # warm: bytecode and the OS file cache
    samples = [measure() for _ in range(args.runs)]
    runs = sorted(1000 * wall for wall, _ in samples)
    median = statistics.median(runs)
    cpu = statistics.median(1000 * cpu for _, cpu in samples)
    print(
        f"import glacier + validate the quickstart, over import polars: median {median:.0f} ms "
        f"(min {runs[0]:.0f}, max {runs[-1]:.0f}; CPU median {cpu:.0f} ms; {args.runs} fresh "
        f"processes; budget {BUDGET_MS} ms: {'ok' if median <= BUDGET_MS else 'OVER'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
