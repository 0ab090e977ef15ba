"""Golden-file comparison for generated stacks (rewrite on purpose with GLACIER_ACCEPT=1).

A golden holds what the compiler writes for *its* pipeline. Two kinds of files every stack
carries verbatim are left out: the vendored ``glacier`` and ``glacier_*`` packages under
``app/`` (the library itself) and the deploy-time helpers ``glacier_<name>.py`` copied from
``glacier_aws/stack/<name>.py``; ``test_aws_golden.py`` pins both against their sources. The
bundle's ``requirements.txt`` (and the Dockerfile's boto3) pins the versions installed where the
compiler runs, so its pins are compared by package name (the versions are pinned by ``test_bundle_pins_installed_versions``);
every other file of a stack is compared byte for byte.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

import glacier_aws
from glacier.compilation.bundle import vendored_files, vendored_packages

VENDORED_PREFIXES = ("app/glacier/", "app/glacier_aws/", "app/glacier_gcp/", "app/glacier_azure/")
HELPER_SOURCES = Path(glacier_aws.__file__).resolve().parent / "stack"
_PIN = re.compile(r"==\S+")


def stack_helpers() -> dict[str, Path]:
    """``glacier_<name>.py`` (a stack's deploy-time helper) -> the ``glacier_aws/stack`` module
    it is a copy of."""
    return {
        f"glacier_{path.name}": path
        for path in sorted(HELPER_SOURCES.glob("*.py"))
        if path.name != "__init__.py"
    }


def comparable(rel: str, text: str) -> str:
    """``text`` with the environment-dependent parts of generated files masked."""
    if rel.endswith(("app/requirements.txt", "app/requirements-lambda.txt", "app/Dockerfile")):
        return _PIN.sub("==<installed>", text)
    return text


def generated(files: Mapping[str, str]) -> dict[str, str]:
    """The files written for this pipeline: ``files`` minus vendored packages and helpers."""
    helpers = stack_helpers()
    return {
        k: v for k, v in files.items() if not k.startswith(VENDORED_PREFIXES) and k not in helpers
    }


def read_tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` except the vendored packages (a user's example stack may hold
    them after ``pulumi up``) and bytecode caches."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith(VENDORED_PREFIXES) and "__pycache__" not in rel:
            with open(path, encoding="utf-8", newline="") as fh:
                found[rel] = fh.read()
    return found


def check_golden(files: Mapping[str, str], golden: Path, *, helpers: bool = False) -> None:
    """Assert ``files`` equal the golden folder; with GLACIER_ACCEPT=1, rewrite it first.

    ``helpers=True`` is for a checked-in stack a user deploys as is (``examples/``): it holds
    the helper files too, whose content ``test_stack_helpers_are_the_vendored_sources``
    checks. A test golden (``helpers=False``) must not hold them.
    """
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
        assert comparable(rel, found[rel]) == comparable(rel, text), (
            f"{golden / rel} is stale; rerun with GLACIER_ACCEPT=1 and review the diff"
        )


def deployable_copy(golden: Path, dest: Path) -> Path:
    """Copy ``golden`` to ``dest`` and add the helper files and the vendored packages, as
    ``infra.write()`` lays a stack out, so the copy runs under Pulumi's mocks."""
    shutil.copytree(golden, dest)
    for name, source in stack_helpers().items():
        shutil.copyfile(source, dest / name)
    for rel, text in vendored_files(vendored_packages()):
        (dest / "app" / rel).parent.mkdir(parents=True, exist_ok=True)
        with open(dest / "app" / rel, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    return dest
