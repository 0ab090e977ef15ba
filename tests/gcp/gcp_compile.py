"""Compile the sample pipelines for the GCP tests, and compare stacks with their goldens.

A golden holds what the compiler writes for *its* pipeline: the vendored packages under
``app/`` and the deploy-time helpers (``glacier_<name>.py``, copies of
``glacier_gcp/stack/<name>.py``) are left out and pinned by their own test; the bundle's
pins are compared by package name. Rewrite goldens on purpose with ``GLACIER_ACCEPT=1``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

import glacier_gcp
from glacier.compilation import Infrastructure
from glacier.loader import load_pipeline
from glacier_gcp import GCPCompiler

PIPELINES = Path(__file__).resolve().parent.parent / "pipelines"
GOLDEN = Path(__file__).resolve().parent / "golden"
VENDORED_PREFIXES = ("app/glacier/", "app/glacier_aws/", "app/glacier_gcp/", "app/glacier_azure/")
HELPER_SOURCES = Path(glacier_gcp.__file__).resolve().parent / "stack"
_PIN = re.compile(r"==\S+")


def compile_ref(name: str, **options: object) -> Infrastructure:
    """Compile ``tests/pipelines/<name>.py`` (``name`` may end ``:attr``) for GCP."""
    settings = {"project": "demo-project", **options}
    module, _, attr = name.partition(":")
    ref = str(PIPELINES / f"{module}.py") + (f":{attr}" if attr else "")
    return load_pipeline(ref).compile(GCPCompiler(**settings))  # type: ignore[arg-type]


def stack_helpers() -> dict[str, Path]:
    return {
        f"glacier_{p.name}": p
        for p in sorted(HELPER_SOURCES.glob("*.py"))
        if p.name != "__init__.py"
    }


def generated(files: Mapping[str, str]) -> dict[str, str]:
    helpers = stack_helpers()
    return {
        k: v for k, v in files.items() if not k.startswith(VENDORED_PREFIXES) and k not in helpers
    }


def _comparable(rel: str, text: str) -> str:
    return _PIN.sub("==<installed>", text) if rel.endswith("app/requirements.txt") else text


def read_tree(root: Path) -> dict[str, str]:
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        skipped = (
            rel.startswith(VENDORED_PREFIXES) or "__pycache__" in rel or ".glacier-build" in rel
        )
        if path.is_file() and not skipped:
            with open(path, encoding="utf-8", newline="") as fh:
                found[rel] = fh.read()
    return found


def check_golden(files: Mapping[str, str], golden: Path, *, helpers: bool = False) -> None:
    """Assert ``files`` equal the golden folder; with GLACIER_ACCEPT=1, rewrite it first."""
    expected = generated(files)
    copies = {k: v for k, v in files.items() if k in stack_helpers()} if helpers else {}
    if os.environ.get("GLACIER_ACCEPT") == "1":
        shutil.rmtree(golden, ignore_errors=True)
        for rel, text in {**expected, **copies}.items():
            (golden / rel).parent.mkdir(parents=True, exist_ok=True)
            with open(golden / rel, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
    found = read_tree(golden)
    assert sorted(found) == sorted([*expected, *copies]), (
        f"{golden}: golden file set differs; rerun with GLACIER_ACCEPT=1"
    )
    for rel, text in expected.items():
        assert _comparable(rel, found[rel]) == _comparable(rel, text), (
            f"{golden / rel} is stale; rerun with GLACIER_ACCEPT=1 and review the diff"
        )


def deployable_copy(golden: Path, dest: Path) -> Path:
    """``golden`` plus the helper files, laid out as ``infra.write()`` would: runnable."""
    shutil.copytree(golden, dest)
    for name, source in stack_helpers().items():
        shutil.copyfile(source, dest / name)
    return dest
