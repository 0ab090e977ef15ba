"""Tests that start a server or emulator, run a Pulumi program under mocks, start a process or
build a bundle are marked ``slow``, so ``pytest -m "not slow"`` (``make test-fast``) stays a
quick loop.

Read statically from the test sources: a test needs the mark when its body names one of
:data:`SLOW_NAMES`, or uses a fixture or helper that does (followed through ``conftest.py``
fixtures and the module's own functions, to a fixed point).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]

#: What makes a test slow, by the name it is reached through.
SLOW_NAMES = frozenset(
    {
        "subprocess",  # a child process: the CLI as users run it, asl-validator, Azurite
        "ThreadedMotoServer",  # a moto server
        "create_server",  # gcp-storage-emulator
        "mock_aws",  # moto's in-process AWS (Step Functions executions)
        "run_stack",  # a Pulumi program under Pulumi's mocks
        "build_lambda_bundle",  # pip fetching the Lambda platform's wheels
    }
)


def _is_slow_mark(node: ast.expr) -> bool:
    """``pytest.mark.slow`` (or ``mark.slow``), alone or in a list of marks."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return any(_is_slow_mark(e) for e in node.elts)
    return ast.unparse(node) in ("pytest.mark.slow", "mark.slow")


def _is_fixture(fn: ast.FunctionDef) -> bool:
    return any("fixture" in ast.unparse(d) for d in fn.decorator_list)


def _functions(tree: ast.Module) -> Iterable[tuple[ast.FunctionDef, bool]]:
    """Module-level functions and methods of classes, with whether a class decorator marks
    them slow."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            yield node, False
        elif isinstance(node, ast.ClassDef):
            marked = any(_is_slow_mark(d) for d in node.decorator_list)
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    yield item, marked


def _used(fn: ast.FunctionDef) -> tuple[set[str], set[str]]:
    """(fixtures it asks for, names its body reaches)."""
    params = {a.arg for a in fn.args.args + fn.args.kwonlyargs}
    names = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
    return params, names


def _slow_functions(trees: Iterable[ast.Module], fixtures: set[str], helpers: set[str]) -> None:
    """Add to ``fixtures``/``helpers`` every function of ``trees`` that reaches a slow name."""
    functions = [
        (fn.name, fixtures if _is_fixture(fn) else helpers, *_used(fn))
        for tree in trees
        for fn, _ in _functions(tree)
    ]
    changed = True
    while changed:
        changed = False
        for name, kind, params, names in functions:
            if name not in kind and (params & fixtures or names & helpers):
                kind.add(name)
                changed = True


@functools.cache
def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _conftests(module: Path, root: Path) -> list[ast.Module]:
    """The ``conftest.py`` files whose fixtures ``module`` sees (its folder up to ``root``)."""
    found = []
    for folder in [module.parent, *module.parent.parents]:
        if folder == root.parent:
            break
        if (folder / "conftest.py").exists():
            found.append(_parse(folder / "conftest.py"))
    return found


def unmarked_slow_tests(module: Path, root: Path = TESTS) -> list[str]:
    """Names of the tests in ``module`` that reach a slow name but carry no ``slow`` mark."""
    tree = _parse(module)
    module_marked = any(
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets)
        and _is_slow_mark(node.value)
        for node in tree.body
    )
    fixtures: set[str] = set()
    helpers = set(SLOW_NAMES)
    _slow_functions([*_conftests(module, root), tree], fixtures, helpers)
    unmarked = []
    for fn, class_marked in _functions(tree):
        if not fn.name.startswith("test") or module_marked or class_marked:
            continue
        if any(_is_slow_mark(d) for d in fn.decorator_list):
            continue
        params, names = _used(fn)
        if params & fixtures or names & helpers:
            unmarked.append(fn.name)
    return unmarked


def test_every_slow_test_is_marked_slow() -> None:
    unmarked = [
        f"{path.relative_to(TESTS.parent)}::{name}"
        for path in sorted(TESTS.rglob("test_*.py"))
        if "golden" not in path.parts
        for name in unmarked_slow_tests(path)
    ]
    assert not unmarked, (
        "these tests start a server, a process, a Pulumi program or a bundle build but are not "
        "marked slow; add @pytest.mark.slow (or a module-level pytestmark): " + ", ".join(unmarked)
    )


def test_the_check_sees_fixtures_helpers_and_marks(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        "import pytest, subprocess\n"
        "@pytest.fixture\ndef server():\n    subprocess.Popen(['x'])\n"
        "@pytest.fixture\ndef client(server):\n    return server\n"
    )
    module = tmp_path / "test_sample.py"
    module.write_text(
        "import pytest\nfrom aws_mocks import run_stack\n"
        "def _deploy(stack):\n    return run_stack(stack)\n"
        "def test_uses_a_fixture(client): ...\n"
        "def test_uses_a_helper(tmp_path):\n    _deploy(tmp_path)\n"
        "def test_fast(tmp_path): ...\n"
        "@pytest.mark.slow\ndef test_marked(client): ...\n"
    )
    assert unmarked_slow_tests(module, tmp_path) == ["test_uses_a_fixture", "test_uses_a_helper"]
    marked = tmp_path / "test_marked.py"
    marked.write_text("import pytest\npytestmark = [pytest.mark.slow]\n" + module.read_text())
    assert unmarked_slow_tests(marked, tmp_path) == []
