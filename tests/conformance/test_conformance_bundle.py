"""The function bundle imports in a clean interpreter: what the cloud runs, and the pipeline.

``python -I -S``: no environment variables, no user site, no ``.pth`` files (so not this
checkout's editable install); ``sys.path`` is the bundle, the standard library and the
environment's site-packages (standing in for the third-party packages the platform installs
from the bundle's requirements). Every entry point and the pipeline must import; everything
the bundle holds must come from the bundle; every third-party distribution imported must be
one the bundle's requirements (or the platform) provide.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from .adapter import Bundle
from .cases import PROJECT, SAMPLES, Case, params
from .conftest import Stacks

pytestmark = pytest.mark.slow  # a fresh interpreter per bundle, on compiled stacks

_IMPORT = """
import importlib, json, sys
bundle, entry_points, pipeline_ref, site = json.loads(sys.argv[1])
sys.path[:0] = [bundle]
sys.path += site
for entry in entry_points:
    module, _, attr = entry.partition(":")
    loaded = importlib.import_module(module)
    assert not attr or callable(getattr(loaded, attr)), entry
module, _, attr = pipeline_ref.partition(":")
pipeline = getattr(importlib.import_module(module), attr)
print(json.dumps({
    "tasks": [t.name for t in pipeline.tasks],
    "modules": {n: m.__file__ for n, m in sorted(sys.modules.items()) if getattr(m, "__file__", None)},
}))
"""


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _with_dependencies(names: frozenset[str]) -> set[str]:
    """``names`` and every distribution they require, transitively (extras left out)."""
    found, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        try:
            requires = importlib.metadata.distribution(name).requires or []
        except importlib.metadata.PackageNotFoundError:
            continue
        todo += [
            _normal(re.split(r"[\s<>=!~;\[(]", r, maxsplit=1)[0])
            for r in requires
            if "extra ==" not in r
        ]
    return found


def _import_in_clean_interpreter(bundle: Bundle) -> dict[str, object]:
    paths = sysconfig.get_paths()
    site = sorted({paths["purelib"], paths["platlib"]})
    argument = json.dumps(
        [str(bundle.root), sorted(bundle.entry_points), bundle.pipeline_ref, site]
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _IMPORT, argument],
        capture_output=True,
        text=True,
        cwd=bundle.root,
    )
    assert done.returncode == 0, f"the bundle does not import:\n{done.stderr[-3000:]}"
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize(("provider", "case"), params("bundle", [*SAMPLES, PROJECT]))
def test_bundle_imports_in_a_clean_interpreter(stacks: Stacks, provider: str, case: Case) -> None:
    built = stacks.get(provider, case)
    bundle = built.deployed.bundle()
    assert bundle.entry_points, "the stack runs no code from its bundle"
    result = _import_in_clean_interpreter(bundle)
    assert result["tasks"] == list(built.dag.tasks)
    modules: dict[str, str] = result["modules"]  # type: ignore[assignment]
    paths = sysconfig.get_paths()
    stdlib = (paths["stdlib"], paths["platstdlib"])
    site = (paths["purelib"], paths["platlib"])
    packaged = {p.name.removesuffix(".py") for p in bundle.root.iterdir()}
    third_party = set()
    for name, file in modules.items():
        top = name.split(".")[0]
        if top in packaged:
            assert Path(file).is_relative_to(bundle.root), f"{name} imported from {file}"
        elif file.startswith(site):
            third_party.add(top)
        else:
            assert file.startswith(stdlib), f"{name} imported from outside the bundle: {file}"
    provides = importlib.metadata.packages_distributions()
    allowed = _with_dependencies(bundle.requirements)
    missing = {
        top: provides.get(top)
        for top in third_party
        if not {_normal(d) for d in provides.get(top, [top])} & allowed
    }
    assert not missing, f"imported, but not in the bundle's requirements: {missing}"
