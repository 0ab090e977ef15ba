"""Setting Glacier up: ``make demo`` installs only what the demo uses, the install prints no
deprecation warning, and the demo reaches its compile step without optional tools."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself depends on tomli before Python 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_license_is_an_spdx_expression_the_build_backend_reads() -> None:
    # A `license = {text = ...}` table makes setuptools 77+ print a deprecation warning on every
    # build step (four times per install); an SPDX string needs setuptools 77 or later.
    license = PYPROJECT["project"]["license"]
    assert isinstance(license, str) and license == "Apache-2.0", license
    backend = next(
        Requirement(r) for r in PYPROJECT["build-system"]["requires"] if r.startswith("setuptools")
    )
    assert "76.9" not in backend.specifier and "77.0" in backend.specifier, backend
    classifiers = PYPROJECT["project"].get("classifiers", [])
    assert not [c for c in classifiers if c.startswith("License ::")], classifiers


def _make_dry_run(target: str, tmp_path: Path) -> str:
    """The commands ``make TARGET`` would run in a fresh checkout (no venv yet)."""
    for name in (
        "Makefile",
        "pyproject.toml",
        "constraints.txt",
        "package.json",
        "requirements-checkov.txt",
    ):
        shutil.copy(ROOT / name, tmp_path / name)
    make = shutil.which("make")
    assert make, "make is not on PATH"
    done = subprocess.run(
        [make, "-n", target], cwd=tmp_path, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


@pytest.mark.slow
def test_make_demo_installs_only_the_base_dependencies(tmp_path: Path) -> None:
    demo = _make_dry_run("demo", tmp_path)
    installs = [line for line in demo.splitlines() if "pip install" in line and " -e " in line]
    assert installs, demo
    assert all(line.rstrip().endswith("-e .") for line in installs), installs
    assert "[dev]" not in demo and "apt-get" not in demo and "npm" not in demo, demo
    assert "examples.demo" in demo
    test = _make_dry_run("test", tmp_path)  # make test still installs everything
    assert "'.[dev]'" in test and "mkdocs build --strict" in test, test


@pytest.mark.slow
def test_demo_without_graphviz_skips_the_picture_and_compiles(tmp_path: Path) -> None:
    no_tools = tmp_path / "bin"  # a PATH with no `dot` (nor anything else)
    no_tools.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "examples.demo"],
        cwd=work,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PATH": str(no_tools)},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    hint = [line for line in done.stdout.splitlines() if line.startswith("graph image:")]
    assert len(hint) == 1 and "skipped" in hint[0] and "apt-get install graphviz" in hint[0], hint
    assert not (work / "build/demo/quickstart.svg").exists()
    assert (work / "build/infra/aws/__main__.py").is_file() and (
        work / "build/infra/README.md"
    ).is_file()
    assert "Pulumi program written to build/infra" in done.stdout
