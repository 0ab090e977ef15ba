"""Golden-file comparison for generated stacks (rewrite on purpose with GLACIER_ACCEPT=1).

Vendored copies of the ``glacier`` and ``glacier_*`` packages are not pinned here (they
are the library itself, checked separately against the installed sources). The bundle's
``requirements.txt`` pins the versions installed where the compiler runs, so its pins are
compared by package name (the versions are pinned by ``test_bundle_pins_installed_versions``);
every other file of a stack is compared byte for byte.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

VENDORED_PREFIXES = ("app/glacier/", "app/glacier_aws/", "app/glacier_gcp/", "app/glacier_azure/")
_PIN = re.compile(r"==\S+")


def comparable(rel: str, text: str) -> str:
    """``text`` with the environment-dependent parts of generated files masked."""
    if rel.endswith(("app/requirements.txt", "app/requirements-lambda.txt")):
        return _PIN.sub("==<installed>", text)
    return text


def pinned(files: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in files.items() if not k.startswith(VENDORED_PREFIXES)}


def read_tree(root: Path) -> dict[str, str]:
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith(VENDORED_PREFIXES) and "__pycache__" not in rel:
            with open(path, encoding="utf-8", newline="") as fh:
                found[rel] = fh.read()
    return found


def check_golden(files: Mapping[str, str], golden: Path) -> None:
    """Assert ``files`` equal the golden folder; with GLACIER_ACCEPT=1, rewrite it first."""
    expected_files = pinned(files)
    if os.environ.get("GLACIER_ACCEPT") == "1":
        shutil.rmtree(golden, ignore_errors=True)
        for rel, text in expected_files.items():
            (golden / rel).parent.mkdir(parents=True, exist_ok=True)
            with open(golden / rel, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
    found = read_tree(golden)
    assert sorted(found) == sorted(expected_files), (
        "golden file set differs; rerun with GLACIER_ACCEPT=1"
    )
    for rel, text in expected_files.items():
        assert comparable(rel, found[rel]) == comparable(rel, text), (
            f"{golden / rel} is stale; rerun with GLACIER_ACCEPT=1 and review the diff"
        )
