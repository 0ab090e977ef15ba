"""Run every benchmark module in this folder, each as ``python -m benchmarks.<name>``.

    python -m benchmarks                 # all of them
    python -m benchmarks dag_build       # just some

Modules are discovered, not listed, so a new ``benchmarks/<name>.py`` joins automatically.
Extra arguments after ``--`` are passed to every benchmark.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover() -> list[str]:
    """Benchmark module names: every module of this package except ``__main__``."""
    return sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    extra: list[str] = []
    if "--" in argv:
        argv, extra = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
    available = discover()
    unknown = [n for n in argv if n not in available]
    if unknown:
        print(
            f"error: no benchmark {unknown[0]!r}; available: {', '.join(available)}",
            file=sys.stderr,
        )
        return 2
    failed = []
    for name in argv or available:
        print(f"\n### benchmarks.{name}", flush=True)
        done = subprocess.run(
            [sys.executable, "-m", f"benchmarks.{name}", *extra], cwd=HERE.parent, check=False
        )
        if done.returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
