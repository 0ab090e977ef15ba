"""Compile + write time for wide pipelines (target: under 1 s of CPU for 1,000 tasks).

    python -m benchmarks.compile [--tasks 100 1000] [--runs 3]

Each pipeline is a binary tree of serverless tasks, each reading its parent's dataset,
written as a real module in a temporary folder (the compiler copies the pipeline's module
into the bundle, as it does for users). Every run is a fresh interpreter that imports the
module, then times ``pipeline.compile(AWSCompiler())`` + ``infra.write()``: a cold compile,
as ``glacier compile`` does it once per process. The median of the runs is reported (the
spread is machine noise), with the size of the largest generated files.

The target is on CPU time (the process's user and system time), not wall time: on a
shared machine wall time measures the neighbours too (a 1,000-task compile taking 0.9 s of
CPU took 1.5-3 s of wall time at a load of 6 on two CPUs). Both are printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_TASKS, TARGET_SECONDS = 1000, 1.0

_HEADER = """\
from glacier import Dataset, Pipeline, compute
from glacier.storage import ObjectStorage

pipeline = Pipeline(name="bench")
d0 = Dataset("d0", storage=ObjectStorage())
"""

_TASK = """
d{i} = Dataset("d{i}", storage=ObjectStorage() if {i} % 10 == 0 else None)


@pipeline.task(compute=compute.serverless())
def t{i}(x: d{j}) -> d{i}:
    return x
"""

_PROBE = """
import json, sys, time
from pathlib import Path
from glacier_aws import AWSCompiler
import {module}
start, cpu = time.perf_counter(), time.process_time()
infra = {module}.pipeline.compile(AWSCompiler())
infra.write(Path({out!r}))
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
files = infra.stacks["aws"].files
names = ("__main__.py", "state_machine.json", "policies.json")
sizes = {{name: len(files[name].encode()) for name in names if name in files}}
print(json.dumps({{"seconds": seconds, "cpu": cpu, "sizes": sizes}}))
"""


def write_module(n: int, folder: Path) -> str:
    """Write the ``n``-task pipeline module into ``folder``; returns its module name."""
    text = _HEADER + "".join(_TASK.format(i=i, j=max(0, (i - 1) // 2)) for i in range(1, n + 1))
    (folder / f"bench_{n}.py").write_text(text)
    return f"bench_{n}"


def measure(n: int, runs: int) -> tuple[list[float], list[float], dict[str, int]]:
    """CPU and wall seconds of each cold compile+write of an ``n``-task pipeline, and the
    generated files' sizes."""
    with tempfile.TemporaryDirectory() as tmp:
        module = write_module(n, Path(tmp))
        found: list[float] = []
        walls: list[float] = []
        sizes: dict[str, int] = {}
        for run in range(runs):
            probe = _PROBE.format(module=module, out=str(Path(tmp) / f"infra{run}"))
            done = subprocess.run(
                [sys.executable, "-c", probe], cwd=tmp, capture_output=True, text=True, check=True
            )
            result = json.loads(done.stdout)
            found.append(result["cpu"])
            walls.append(result["seconds"])
            sizes = result["sizes"]
        return found, walls, sizes


def report(n: int, seconds: list[float], walls: list[float], sizes: dict[str, int]) -> str:
    median = statistics.median(seconds)
    line = (
        f"compile+write {n:>5} tasks: {median:6.2f} s CPU  (median of {len(seconds)} cold runs, "
        f"{min(seconds):.2f}-{max(seconds):.2f} s; wall {statistics.median(walls):.2f} s; "
        + ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in sizes.items())
        + ")"
    )
    if n == TARGET_TASKS:
        met = "met" if median < TARGET_SECONDS else "MISSED"
        line += f"  target < {TARGET_SECONDS:g} s: {met}"
    return line


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[100, TARGET_TASKS])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    for n in args.tasks:
        seconds, walls, sizes = measure(n, args.runs)
        print(report(n, seconds, walls, sizes), flush=True)


if __name__ == "__main__":
    main()
